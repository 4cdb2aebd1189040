#!/usr/bin/env bash
# Builds the database binaries the docker test hosts need from Go modules (the only
# source reachable here), cached by version under ~/.cache/pryv-core-migration/:
#   ferretdb-v1.24.2/ferretdb          FerretDB, MongoDB wire protocol on SQLite (runs in the images)
#   influx_inspect-v1.8.3/influx_inspect  InfluxDB's file checker (Debian ships influxd only)
# Idempotent: a second run only checks that both exist.
set -euo pipefail
cache="${XDG_CACHE_HOME:-$HOME/.cache}/pryv-core-migration"
FERRETDB_VERSION=v1.24.2
INFLUX_INSPECT_VERSION=v1.8.3
ferretdb="$cache/ferretdb-$FERRETDB_VERSION/ferretdb"
influx_inspect="$cache/influx_inspect-$INFLUX_INSPECT_VERSION/influx_inspect"

if [ ! -x "$ferretdb" ]; then
  echo "docker test hosts: building FerretDB $FERRETDB_VERSION into $(dirname "$ferretdb")"
  work=$(mktemp -d)
  (
    cd "$work"
    go mod download github.com/FerretDB/FerretDB@"$FERRETDB_VERSION"
    src=$(go env GOMODCACHE)/github.com/!ferret!d!b/!ferret!d!b@$FERRETDB_VERSION
    cp -r "$src" ferretdb && chmod -R u+w ferretdb
    cd ferretdb
    # The module embeds build/version/version.txt, which its release archive leaves empty:
    # a binary built without it panics at start.
    echo "$FERRETDB_VERSION" >build/version/version.txt
    mkdir -p "$(dirname "$ferretdb")"
    # Pure Go (modernc SQLite): a static binary that runs in any image.
    CGO_ENABLED=0 go build -trimpath -o "$ferretdb.tmp" ./cmd/ferretdb
  )
  mv "$ferretdb.tmp" "$ferretdb"
  rm -rf "$work"
fi

if [ ! -x "$influx_inspect" ]; then
  echo "docker test hosts: building influx_inspect $INFLUX_INSPECT_VERSION into $(dirname "$influx_inspect")"
  mkdir -p "$(dirname "$influx_inspect")"
  GOBIN=$(dirname "$influx_inspect") CGO_ENABLED=0 go install github.com/influxdata/influxdb/cmd/influx_inspect@"$INFLUX_INSPECT_VERSION"
fi
