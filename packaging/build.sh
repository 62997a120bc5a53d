#!/bin/sh
# build.sh OUTDIR: the release build of flywheel and flywheel-agent — static
# (CGO_ENABLED=0), paths trimmed, stripped, stamped with the version and
# commit. The Dockerfile, `make release` and packaging's tests all run this
# one script. GOOS and GOARCH pick the target as for go build; VERSION and
# COMMIT default to what git says of the checkout.
set -eu
out=${1:?usage: packaging/build.sh OUTDIR}
case $out in /*) ;; *) out=$PWD/$out ;; esac
cd "$(dirname "$0")/.."
version=${VERSION:-$(git describe --tags --always --dirty 2>/dev/null || echo dev)}
commit=${COMMIT:-$(git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)}
pkg=github.com/flywheel-ops/flywheel/internal/version
for cmd in flywheel flywheel-agent; do
	CGO_ENABLED=0 go build -trimpath \
		-ldflags "-s -w -X $pkg.Version=$version -X $pkg.Commit=$commit" \
		-o "$out/$cmd" "./cmd/$cmd"
done
