#!/usr/bin/env bash
# Builds a static eosweep binary (CGO off) and the FROM-scratch image around it.
#
#   deploy/build.sh [TAG]        TAG defaults to $EOSWEEP_IMAGE or eosweep:dev
#
# Environment: GOARCH (default: the host's), EOSWEEP_BIN (also copy the binary
# there, e.g. for Slurm nodes that run it without a container).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
tag=${1:-${EOSWEEP_IMAGE:-eosweep:dev}}
ctx=$(mktemp -d)
trap 'rm -rf "$ctx"' EXIT

echo "build: static binary" >&2
(cd "$root" && CGO_ENABLED=0 GOOS=linux go build -trimpath -ldflags='-s -w' -o "$ctx/eosweep" ./cmd/eosweep)
if [ -n "${EOSWEEP_BIN:-}" ]; then
	cp "$ctx/eosweep" "$EOSWEEP_BIN"
fi

mkdir "$ctx/data" "$ctx/tmp"
cp "$root/deploy/Dockerfile" "$ctx/Dockerfile"

echo "build: image $tag" >&2
# The classic builder is enough for a FROM scratch image and needs no buildx
# plugin (not installed on every host).
DOCKER_BUILDKIT=0 docker build -t "$tag" "$ctx" >&2
echo "$tag"
