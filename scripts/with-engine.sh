#!/usr/bin/env bash
# Runs a command of the project with everything it needs: installs what is missing
# (scripts/setup.sh), puts the engine on PATH with the offline settings, and runs from
# the project's folder. npm test, npm run rehearsal and npm run bench go through it.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bash "$here/scripts/setup.sh"
# shellcheck source=scripts/env.sh
source "$here/scripts/env.sh"
cd "$here"
exec "$@"
