#!/usr/bin/env bash
# Builds the one image every container of the docker test hosts runs (nginx, InfluxDB,
# FerretDB, sqlite3 for v1's per-user files; Node services bind-mount the machine's node
# binary) as a tar for `docker import`: a Debian 12 root filesystem from mmdebstrap,
# fetched from the machine's own Debian sources. No registry is involved.
# nginx reads /app/conf/nginx.conf (the install's core/nginx/conf, mounted there), so
# `nginx -t` in the container checks the install's files, as in Pryv's nginx image.
# Cached as ~/.cache/pryv-core-migration/images/pryvmig-base-<key>.tar, <key> a hash of
# this script and the FerretDB version: a second run only prints the path.
# Prints the tar's path on stdout (progress goes to stderr).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cache="${XDG_CACHE_HOME:-$HOME/.cache}/pryv-core-migration"
bash "$here/build-binaries.sh" >&2
ferretdb="$cache/ferretdb-v1.24.2/ferretdb"
packages=nginx-light,influxdb,ca-certificates,sqlite3
key=$( (cat "${BASH_SOURCE[0]}" && echo "$packages v1.24.2") | sha256sum | cut -c1-16)
tar="$cache/images/pryvmig-base-$key.tar"
if [ ! -s "$tar" ]; then
  mkdir -p "$cache/images"
  echo "docker test hosts: building image pryvmig-base ($key) with mmdebstrap" >&2
  # Older builds are superseded: keep the cache at one image.
  rm -f "$cache"/images/pryvmig-base-*.tar
  sources=/etc/apt/sources.list.d/debian.sources
  [ -f "$sources" ] || sources=http://deb.debian.org/debian
  mmdebstrap --quiet --variant=minbase --include="$packages" \
    --dpkgopt='path-exclude=/usr/share/man/*' \
    --dpkgopt='path-exclude=/usr/share/doc/*' \
    --dpkgopt='path-exclude=/usr/share/locale/*' \
    --dpkgopt='path-exclude=/usr/share/info/*' \
    --customize-hook="copy-in $ferretdb /usr/local/bin" \
    --customize-hook='ln -sf /app/conf/nginx.conf "$1"/etc/nginx/nginx.conf' \
    --customize-hook='rm -rf "$1"/var/lib/apt/lists/* "$1"/var/cache/apt/* "$1"/var/log/*.log' \
    bookworm "$tar.tmp.tar" "$sources" </dev/null >&2
  mv "$tar.tmp.tar" "$tar"
fi
echo "$tar"
