#!/bin/bash
# Builds etcd's own load generator (tools/benchmark, etcd 3.4) from Debian's packages, in GOPATH
# mode: the Go toolchain and the Go sources of etcd and its dependencies from bookworm's
# golang-go and golang-etcd-server-dev, the tool itself from the etcd source package (it is not
# in the -dev package). Prints the binary's path. Idempotent: an existing binary is kept.
#
#   bash bench/etcd-benchmark/build.sh        # -> bench/etcd-benchmark/bin/benchmark
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
bin="$here/bin/benchmark"
if [ -x "$bin" ]; then echo "$bin"; exit 0; fi

export DEBIAN_FRONTEND=noninteractive
need=()
command -v go >/dev/null || need+=(golang-go)
[ -d /usr/share/gocode/src/go.etcd.io/etcd/clientv3 ] || need+=(golang-etcd-server-dev)
command -v dpkg-source >/dev/null || need+=(dpkg-dev)
if [ ${#need[@]} -gt 0 ]; then apt-get install -y "${need[@]}" >&2; fi

work=$(mktemp -d /tmp/etcd-benchmark-build-XXXX)
trap 'rm -rf "$work"' EXIT
# The source package: deb-src for bookworm main, in a sources file of its own.
src_list=/etc/apt/sources.list.d/tsetcd-etcd-src.sources
if ! apt-cache showsrc etcd 2>/dev/null | grep -q '^Package: etcd$'; then
  printf 'Types: deb-src\nURIs: http://deb.debian.org/debian\nSuites: bookworm\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' > "$src_list"
  apt-get update -q -o Dir::Etc::sourcelist=/dev/null -o Dir::Etc::sourceparts=/etc/apt/sources.list.d >&2
fi
(cd "$work" && apt-get source --download-only -q etcd >&2)
orig=$(ls "$work"/etcd_*.orig.tar.gz | head -1)
tar xzf "$orig" -C "$work" --wildcards '*/tools/benchmark/*'
# GOPATH mode: this tree first (the tool), Debian's gocode after (etcd's packages and deps).
gp="$work/gopath"
mkdir -p "$gp/src/go.etcd.io/etcd/tools"
mv "$work"/etcd-*/tools/benchmark "$gp/src/go.etcd.io/etcd/tools/benchmark"
mkdir -p "$here/bin"
(cd "$gp/src/go.etcd.io/etcd/tools/benchmark" && GO111MODULE=off GOPATH="$gp:/usr/share/gocode" GOFLAGS= GOCACHE="$work/cache" go build -o "$bin" . >&2)
echo "$bin"
