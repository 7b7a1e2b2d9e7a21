#!/usr/bin/env bash
# Builds the Kubernetes control-plane binaries that test/kubeharness runs:
#   kube-apiserver, kube-controller-manager, kube-scheduler (k8s.io/kubernetes
#   v1.34.4) and etcd v3.6.4 (the version Kubernetes v1.34.4 pins), all from
#   the separate module in tools/kube, and kwok v0.8.0.
#
# They go to ${CLD_KUBE_BIN:-/var/cache/cld-kube/v1.34.4}. A binary that is
# already there and reports the expected version is not rebuilt, so running
# this script again is cheap (about a second).
#
# Needs only Go (and network access to the Go module proxy). Debian's etcd
# (3.4.23) is not enough: it lacks the RequestWatchProgress feature, so the
# apiserver refuses kwok's watch-list requests and pods start or go away tens
# of seconds late.
#
# Usage: scripts/build-kube.sh [--force]
set -euo pipefail

KUBE_VERSION=v1.34.4
KWOK_VERSION=v0.8.0
ETCD_VERSION=3.6.4
BIN="${CLD_KUBE_BIN:-/var/cache/cld-kube/${KUBE_VERSION}}"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
MODDIR="$ROOT/tools/kube"
FORCE=0
if [[ "${1:-}" == "--force" ]]; then FORCE=1; fi

log() { printf '[build-kube] %s\n' "$*" >&2; }
now() { date +%s; }

command -v go >/dev/null || { log "go not found in PATH"; exit 1; }
mkdir -p "$BIN"
# Only one build at a time per cache dir (CI and developers may race).
exec 9>"$BIN/.lock"
if command -v flock >/dev/null; then flock 9; fi
tmp="$(mktemp -d "$BIN/.build.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT

# have NAME EXPECTED: the binary exists and its --version output contains EXPECTED.
have() {
	local bin="$BIN/$1" want="$2" out
	[[ $FORCE -eq 0 && -x "$bin" ]] || return 1
	out="$("$bin" --version 2>&1 || true)"
	[[ "$out" == *"$want"* ]]
}

T0=$(now)
export GOWORK=off

# --- kube-apiserver, kube-controller-manager, kube-scheduler -----------------
KUBE_CMDS=(kube-apiserver kube-controller-manager kube-scheduler)
missing=()
for c in "${KUBE_CMDS[@]}"; do
	if have "$c" "Kubernetes ${KUBE_VERSION}"; then
		log "$c ${KUBE_VERSION}: cached in $BIN"
	else
		missing+=("$c")
	fi
done
if ((${#missing[@]})); then
	major="${KUBE_VERSION#v}"; major="${major%%.*}"
	minor="${KUBE_VERSION#v*.}"; minor="${minor%%.*}"
	ldflags="-s -w"
	for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
		ldflags+=" -X $p.gitVersion=${KUBE_VERSION}"
		ldflags+=" -X $p.gitMajor=${major} -X $p.gitMinor=${minor}"
		ldflags+=" -X $p.gitTreeState=clean"
		ldflags+=" -X $p.buildDate=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
	done
	pkgs=()
	for c in "${missing[@]}"; do pkgs+=("k8s.io/kubernetes/cmd/$c"); done
	log "building ${missing[*]} (${KUBE_VERSION}) from $MODDIR; a cold build takes ~10-15 min on 2 cores"
	t=$(now)
	(cd "$MODDIR" && CGO_ENABLED=0 go build -buildvcs=false -trimpath -ldflags="$ldflags" -o "$tmp/" "${pkgs[@]}")
	for c in "${missing[@]}"; do mv -f "$tmp/$c" "$BIN/$c"; done
	log "built ${missing[*]} in $(($(now) - t))s"
fi

# --- etcd ---------------------------------------------------------------------
if have etcd "etcd Version: ${ETCD_VERSION}"; then
	log "etcd ${ETCD_VERSION}: cached in $BIN"
else
	log "building etcd ${ETCD_VERSION}"
	t=$(now)
	(cd "$MODDIR" && CGO_ENABLED=0 go build -buildvcs=false -trimpath -ldflags="-s -w" -o "$tmp/etcd" go.etcd.io/etcd/server/v3)
	mv -f "$tmp/etcd" "$BIN/etcd"
	log "built etcd in $(($(now) - t))s"
fi

# --- kwok ---------------------------------------------------------------------
if have kwok "${KWOK_VERSION#v}"; then
	log "kwok ${KWOK_VERSION}: cached in $BIN"
else
	log "building kwok ${KWOK_VERSION}"
	t=$(now)
	# Outside any module: go install pkg@version uses kwok's own go.mod.
	(cd / && GOFLAGS= CGO_ENABLED=0 GOBIN="$BIN" go install -buildvcs=false -trimpath -ldflags="-s -w" \
		"sigs.k8s.io/kwok/cmd/kwok@${KWOK_VERSION}")
	log "built kwok in $(($(now) - t))s"
fi

for c in "${KUBE_CMDS[@]}"; do have "$c" "Kubernetes ${KUBE_VERSION}" || { log "$c: version check failed"; exit 1; }; done
have etcd "etcd Version: ${ETCD_VERSION}" || { log "etcd: version check failed"; exit 1; }
have kwok "${KWOK_VERSION#v}" || { log "kwok: version check failed: $("$BIN/kwok" --version 2>&1 || true)"; exit 1; }
log "ready in $BIN (total $(($(now) - T0))s)"
