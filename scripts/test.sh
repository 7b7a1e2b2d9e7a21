#!/usr/bin/env bash
# scripts/test.sh - set up the machine (scripts/setup.sh) and run every test:
# unit tests, the provider and fake tests, and the end-to-end tests that drive
# the built cld binary against the real Docker engine.
#
#   bash scripts/test.sh            # everything
#   bash scripts/test.sh ./internal/...   # a subset
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/usr/local/go/bin"
bash scripts/setup.sh
# Tests that need a prepared machine (the Kubernetes binaries) fail instead of skipping.
export CI=${CI:-1}
pkgs=("${@:-./...}")
go vet "${pkgs[@]}"
unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))
[ -z "$unformatted" ] || { echo "gofmt needed on: $unformatted" >&2; exit 1; }
go test -count=1 -timeout 60m "${pkgs[@]}"
