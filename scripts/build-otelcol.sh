#!/usr/bin/env bash
# Builds the OpenTelemetry Collector of scripts/otelcol-builder.yaml (the OTLP receiver and the file exporter) with the
# collector's builder (ocb), both from the Go module proxy, and prints the binary's path on stdout. The binary goes to
# .trellis/otelcol/MANIFEST_HASH/ (TRELLIS_OTELCOL_DIR), so a build is skipped when one for this manifest exists and
# a changed manifest builds anew. Progress goes to stderr. Needs Go 1.26 or newer (GO=/path/to/go).
#
#   scripts/build-otelcol.sh        build when missing, print the binary's path
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
MANIFEST=$ROOT/scripts/otelcol-builder.yaml
STATE=${TRELLIS_OTELCOL_DIR:-$ROOT/.trellis/otelcol}
BUILDER_VERSION=v0.161.0

say() { echo "build-otelcol: $*" >&2; }
die() {
  say "$*"
  exit 1
}

GO=${GO:-$(command -v go || true)}
[ -n "$GO" ] || { [ -x /usr/local/go/bin/go ] && GO=/usr/local/go/bin/go; } ||
  die "Go is needed to build the collector (1.26 or newer): install it (https://go.dev/dl/), or set GO=/path/to/go."

# The manifest and the builder's version name the binary: either changing builds a new one.
HASH=$( (cat "$MANIFEST" && echo "$BUILDER_VERSION") | sha256sum | cut -c1-16)
OUT=$STATE/$HASH
BIN=$OUT/otelcol-trellis
if [ -x "$BIN" ]; then
  echo "$BIN"
  exit 0
fi

mkdir -p "$STATE/bin"
# One build at a time (two test files may ask at once): the second waits, then finds the binary.
exec 9>"$STATE/.lock"
flock 9
if [ -x "$BIN" ]; then
  echo "$BIN"
  exit 0
fi
BUILDER=$STATE/bin/builder-$BUILDER_VERSION
if [ ! -x "$BUILDER" ]; then
  say "installing the collector builder $BUILDER_VERSION from the Go module proxy"
  gobin=$(mktemp -d)
  (cd "$gobin" && GOFLAGS=-trimpath GOBIN=$gobin nice "$GO" install "go.opentelemetry.io/collector/cmd/builder@$BUILDER_VERSION") >&2 ||
    {
      rm -rf "$gobin"
      die "could not install the collector builder; is the Go module proxy reachable (GOPROXY)?"
    }
  mv "$gobin/builder" "$BUILDER"
  rm -rf "$gobin"
fi

say "building the collector of $(basename "$MANIFEST") into $OUT (minutes the first time)"
# Built in a scratch folder and moved into place whole, so an interrupted build leaves no half binary behind.
work=$(mktemp -d "$STATE/build.XXXXXX")
trap 'rm -rf "$work"' EXIT
PATH=$(dirname "$GO"):$PATH GOFLAGS=-trimpath nice "$BUILDER" --config="$MANIFEST" --output-path="$work/src" >&2 ||
  die "the collector builder failed (its output is above)"
mkdir -p "$OUT"
mv "$work/src/otelcol-trellis" "$BIN"
echo "$BIN"
