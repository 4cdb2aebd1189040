#!/usr/bin/env bash
# Installs everything the project needs on a fresh Debian 12 machine that reaches
# package registries only: Debian packages, npm packages, and the Pulumi engine built
# from Go modules (see ../shared/ENGINE.md). Idempotent: a second run takes seconds.
# Source scripts/env.sh afterwards (the npm scripts do) to get the engine on PATH.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=scripts/env.sh
source "$here/scripts/env.sh"

debian_packages=(rsync openssh-client openssh-server nginx-light iproute2 curl openssl procps psmisc dnsutils ca-certificates python3 jq inotify-tools)
# Docker test hosts (testbed/docker): an engine per host, compose v1 as 2019 installs
# ran it, the image's root filesystem, InfluxDB's client and SQLite for the databases' checks.
debian_packages+=(docker.io docker-compose mmdebstrap influxdb influxdb-client sqlite3)
missing=()
for p in "${debian_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # Services stay stopped: the test hosts start their own sshd and nginx per namespace.
  printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  rm -f /usr/sbin/policy-rc.d
fi

build_go_binary() { # <output> <package> <version> [ldflags]
  local out=$1 package=$2 version=$3 ldflags=${4:-}
  [ -x "$out" ] && return 0
  echo "setup: building $package@$version, cached in $(dirname "$out")"
  local work; work=$(mktemp -d)
  (
    cd "$work"
    go mod init pryv-engine-build >/dev/null 2>&1
    # pkg/v3's own replace does not apply to the modules that require it.
    go mod edit -replace=github.com/atotto/clipboard=github.com/tgummerer/clipboard@v0.0.0-20241001131231-d02d263e614e
    go get "$package@$version" >/dev/null
    go build -o "$out.tmp" -ldflags "$ldflags" "$package"
  )
  mv "$out.tmp" "$out"
  rm -rf "$work"
}

mkdir -p "$PRYV_ENGINE_BIN"
build_go_binary "$PRYV_ENGINE_BIN/pulumi" github.com/pulumi/pulumi/pkg/v3/cmd/pulumi "v$PULUMI_VERSION" \
  "-X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v$PULUMI_VERSION"
build_go_binary "$PRYV_ENGINE_BIN/pulumi-language-nodejs" github.com/pulumi/pulumi/sdk/v3/nodejs/cmd/pulumi-language-nodejs \
  "v$PULUMI_LANGUAGE_HOST_VERSION"

# The dynamic provider host that @pulumi/pulumi ships, placed next to the engine: the
# engine takes a plugin found there as bundled, and warns about one found elsewhere on PATH.
provider_host="$PRYV_ENGINE_BIN/pulumi-resource-pulumi-nodejs"
cat > "$provider_host.tmp" <<'PROVIDER_HOST'
#!/bin/sh
# Runs @pulumi/pulumi's dynamic provider, resolved from the program's folder (or NODE_PATH).
exec node "$(node -e "console.log(require.resolve('@pulumi/pulumi/cmd/dynamic-provider'))")" "$@"
PROVIDER_HOST
chmod +x "$provider_host.tmp"
mv "$provider_host.tmp" "$provider_host"

# The docker test hosts' image and database binaries (FerretDB, influx_inspect), cached.
bash "$here/testbed/docker/build-image.sh" >/dev/null

if [ ! -d "$here/node_modules/@pulumi/pulumi" ] || [ "$here/package-lock.json" -nt "$here/node_modules/.package-lock.json" ]; then
  echo "setup: installing npm packages"
  (cd "$here" && npm ci --no-audit --no-fund --loglevel=error)
fi
pulumi version >/dev/null
echo "setup: ready (pulumi $(pulumi version))"
