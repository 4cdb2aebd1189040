#!/usr/bin/env bash
# npm run rehearsal: the whole migration, forward and back, on local test hosts.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bash "$here/scripts/setup.sh"
# shellcheck source=scripts/env.sh
source "$here/scripts/env.sh"
cd "$here"
exec ts-node scripts/rehearsal.ts "$@"
