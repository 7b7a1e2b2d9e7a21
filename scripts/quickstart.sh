#!/usr/bin/env bash
# scripts/quickstart.sh - the main job on a fresh machine: set up Docker and the
# database images, build cld and the example app, create a local environment
# with MySQL, deploy the greetings app bound to it, and print its URL.
#
#   bash scripts/quickstart.sh
#
# Delete it all afterwards with:
#   ./bin/cld env delete quickstart --force && ./bin/cld container delete greetings
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/usr/local/go/bin"
CLD_SKIP_KUBE=1 bash scripts/setup.sh >&2

mkdir -p bin
go build -o bin/cld ./cmd/cld
CGO_ENABLED=0 go build -o examples/greetings/greetings ./examples/greetings
cld=./bin/cld

if ! $cld env show quickstart >/dev/null 2>&1; then
	$cld env create quickstart examples/greetings/env-local-mysql.yaml >&2
fi
image=$(cd examples/greetings && ../../bin/cld container show greetings -o json 2>/dev/null | sed -n 's/.*"image": "\(.*\)".*/\1/p' || true)
if [ -z "$image" ]; then
	image=$(cd examples/greetings && ../../bin/cld container create greetings local)
fi
app=$(mktemp --suffix=.yaml)
sed "s|REPLACE_WITH_IMAGE|$image|" examples/greetings/app-local-mysql.yaml >"$app"
if $cld app show greetings >/dev/null 2>&1; then
	$cld app redeploy greetings "$app" >&2
else
	$cld app deploy greetings quickstart "$app" >&2
fi
rm -f "$app"
$cld app show greetings -o json | sed -n 's/.*"url": "\(.*\)".*/\1/p'
