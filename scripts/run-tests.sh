#!/usr/bin/env bash
# The project's test command (npm test): installs what is missing, then unit tests
# (mocks) and integration tests (real engine against local test hosts).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bash "$here/scripts/setup.sh"
# shellcheck source=scripts/env.sh
source "$here/scripts/env.sh"
cd "$here"
tsc --noEmit -p .
mocha 'components/**/*.test.ts' 'tests/integration/**/*.test.ts'
