#!/usr/bin/env bash
# scripts/setup.sh - prepare a fresh Debian 12 machine (as root) for cld:
# the Docker engine (started in the background when no systemd runs it), the
# offline database images built from Debian packages, and Go modules.
# Idempotent: a second run only checks.
#
#   bash scripts/setup.sh
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/usr/local/go/bin"
log() { printf '[setup] %s\n' "$*" >&2; }

need=()
command -v dockerd >/dev/null || need+=(docker.io)
command -v debootstrap >/dev/null || need+=(debootstrap)
command -v curl >/dev/null || need+=(curl)
[ -x /usr/bin/docker-registry ] || need+=(docker-registry)
if [ ${#need[@]} -gt 0 ]; then
	log "installing ${need[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

if ! docker info >/dev/null 2>&1; then
	log "starting dockerd"
	# setsid: the engine must outlive this script and its process group.
	setsid dockerd >/var/log/cld-dockerd.log 2>&1 < /dev/null &
	for i in $(seq 1 120); do
		docker info >/dev/null 2>&1 && break
		[ "$i" = 120 ] && { tail -20 /var/log/cld-dockerd.log; log "dockerd did not answer within 60s"; exit 1; }
		sleep 0.5
	done
fi
log "docker engine $(docker version --format '{{.Server.Version}} (API {{.Server.APIVersion}})')"

bash scripts/build-db-images.sh
# The Kubernetes control plane the tests run (kube-apiserver, controller-manager,
# scheduler, etcd, kwok), built from the Go module proxy once and cached.
if [ "${CLD_SKIP_KUBE:-0}" != 1 ]; then
	bash scripts/build-kube.sh
fi
go mod download
log "ready"
