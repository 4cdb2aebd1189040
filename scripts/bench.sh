#!/usr/bin/env bash
# npm run bench: migration timings on the test hosts, written to bench/results.{json,md}.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bash "$here/scripts/setup.sh"
# shellcheck source=scripts/env.sh
source "$here/scripts/env.sh"
cd "$here"
exec ts-node scripts/bench.ts "$@"
