# Sourced by the project's scripts: the engine's cache and the offline settings.
# shellcheck shell=bash
PRYV_PROJECT_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export PULUMI_VERSION=3.259.0
export PULUMI_LANGUAGE_HOST_VERSION=3.68.0
export PRYV_ENGINE_BIN="${XDG_CACHE_HOME:-$HOME/.cache}/pryv-core-migration/pulumi-v$PULUMI_VERSION/bin"
export PATH="$PRYV_ENGINE_BIN:$PRYV_PROJECT_ROOT/node_modules/.bin:$PATH"
export PULUMI_SKIP_UPDATE_CHECK=true
export PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true
export PULUMI_HOME="${PULUMI_HOME:-${XDG_CACHE_HOME:-$HOME/.cache}/pryv-core-migration/pulumi-home}"
