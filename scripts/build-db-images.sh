#!/usr/bin/env bash
# scripts/build-db-images.sh - build cld's local database images from Debian 12
# packages, without pulling anything from a container registry.
#
#   cld/mysql:debian12     MariaDB 10.11 (Debian's mariadb-server), MySQL compatible
#   cld/postgres:debian12  PostgreSQL 15 (Debian's postgresql)
#
# Usage (as root; needs dockerd, debootstrap, chroot, flock):
#   bash scripts/build-db-images.sh              # build both images
#   bash scripts/build-db-images.sh mysql        # only cld/mysql:debian12
#   bash scripts/build-db-images.sh postgres     # only cld/postgres:debian12
#
# How it works:
#   1. `debootstrap --variant=minbase bookworm` one shared base tree from the apt
#      mirror this machine already uses (first bookworm entry found in
#      /etc/apt/sources.list{,.d/*}; override with CLD_DEBIAN_MIRROR and
#      CLD_DEBIAN_SECURITY_MIRROR, set the latter to "none" to skip security).
#   2. copy the base per image, `chroot ... apt-get install --no-install-recommends`
#      the server package, drop docs/caches, add /usr/local/bin/docker-entrypoint.sh.
#   3. `tar -C tree -c . | docker import --change ...` (ENTRYPOINT, CMD, ENV, EXPOSE,
#      VOLUME, LABEL); postgres then gets a one-line `docker build` (FROM the
#      imported image, STOPSIGNAL SIGINT), since import cannot set STOPSIGNAL.
#
# Caching: every image carries LABEL cld.image-recipe=<sha256 of this file>; an
# image whose label already matches is not rebuilt (CLD_FORCE_REBUILD=1 forces it).
# Output of debootstrap/apt goes to $CACHE/build.log (its tail is printed on failure).
# The debootstrap tree, the per-image trees and downloaded .debs are kept under
# ${CLD_IMAGE_CACHE:-/var/cache/cld-images}, so rebuilding after `docker rmi` is a
# re-import and a changed recipe does not re-run debootstrap. Deleting that
# directory is always safe (it holds no mounts once the script has exited).
#
# Entrypoint contract (mirrors the official images' variables):
#   mysql:    MYSQL_ROOT_PASSWORD (required unless MYSQL_ALLOW_EMPTY_PASSWORD=yes or
#             MYSQL_RANDOM_ROOT_PASSWORD=yes), MYSQL_DATABASE, MYSQL_USER,
#             MYSQL_PASSWORD (user@'%' gets ALL on MYSQL_DATABASE), MYSQL_ROOT_HOST
#             (default '%'). MARIADB_* spellings are accepted too. Data in
#             /var/lib/mysql; listens on 0.0.0.0:3306.
#   postgres: POSTGRES_PASSWORD (required unless POSTGRES_HOST_AUTH_METHOD=trust),
#             POSTGRES_USER (default postgres), POSTGRES_DB (default = user),
#             POSTGRES_INITDB_ARGS. Data in PGDATA=/var/lib/postgresql/data;
#             listens on *:5432, scram-sha-256 for every host connection.
#   Both: first start on an empty data dir initialises it with a temporary server
#   that listens on a unix socket only, so once the TCP port accepts connections
#   the database, user and password exist. *.sql and *.sh files in
#   /docker-entrypoint-initdb.d run during that first start. The server is exec'd
#   as PID 1 (as user mysql / postgres), logging to stdout/stderr; postgres
#   stops on SIGINT (fast shutdown), set as the image's STOPSIGNAL.
#
# This script builds only the two database images; the example app image is
# built from examples/greetings/Dockerfile (see examples/greetings/README.md).
set -euo pipefail

SECONDS=0
SCRIPT_PATH=$(readlink -f "${BASH_SOURCE[0]}")
RECIPE=$(sha256sum "$SCRIPT_PATH" | cut -d' ' -f1)
SUITE=bookworm
CACHE=${CLD_IMAGE_CACHE:-/var/cache/cld-images}
MYSQL_IMAGE=${CLD_MYSQL_IMAGE:-cld/mysql:debian12}
POSTGRES_IMAGE=${CLD_POSTGRES_IMAGE:-cld/postgres:debian12}
FORCE=${CLD_FORCE_REBUILD:-0}
CHROOT_PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

log() { printf '[build-db-images %4ss] %s\n' "$SECONDS" "$*" >&2; }
die() { log "error: $*"; exit 1; }
done_msg() { log "$1 (took ${SECONDS}s)"; }

image_for() {
	case $1 in
	mysql) echo "$MYSQL_IMAGE" ;;
	postgres) echo "$POSTGRES_IMAGE" ;;
	*) die "unknown image '$1' (want mysql or postgres)" ;;
	esac
}

image_current() {
	[ "$FORCE" = 1 ] && return 1
	local label
	label=$(docker image inspect -f '{{ index .Config.Labels "cld.image-recipe" }}' "$1" 2>/dev/null) || return 1
	[ "$label" = "$RECIPE" ]
}

command -v docker >/dev/null || die "docker CLI not found"
docker version -f '{{.Server.Version}}' >/dev/null 2>&1 || die "cannot talk to dockerd (is it running? try: dockerd >/tmp/dockerd.log 2>&1 &)"

WANT=("$@")
[ ${#WANT[@]} -gt 0 ] || WANT=(mysql postgres)
for w in "${WANT[@]}"; do image_for "$w" >/dev/null; done

todo() {
	TODO=()
	local w
	for w in "${WANT[@]}"; do
		if image_current "$(image_for "$w")"; then
			log "$(image_for "$w") is up to date (recipe ${RECIPE:0:12})"
		else
			TODO+=("$w")
		fi
	done
}
todo
if [ ${#TODO[@]} -eq 0 ]; then
	done_msg "nothing to build"
	exit 0
fi

# ---------------------------------------------------------------- preconditions
[ "$(id -u)" = 0 ] || die "building needs root (debootstrap/chroot); re-run with sudo"
command -v flock >/dev/null || die "flock not found (util-linux)"
if ! command -v debootstrap >/dev/null; then
	log "debootstrap not found, installing it with apt-get"
	DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends debootstrap >&2 ||
		{ apt-get update >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends debootstrap >&2; } ||
		die "could not install debootstrap"
fi

mkdir -p "$CACHE/debs"
exec 9>"$CACHE/.lock"
if ! flock -n 9; then
	log "another build holds $CACHE/.lock, waiting"
	flock 9
fi
todo # someone else may have built them while we waited
if [ ${#TODO[@]} -eq 0 ]; then
	done_msg "nothing to build"
	exit 0
fi

# ------------------------------------------------------------- mounts & cleanup
BUILD_LOG=$CACHE/build.log
: >"$BUILD_LOG"
MOUNTS=()
TMP_TREES=()
cleanup() {
	local rc=$? i
	if [ "$rc" != 0 ] && [ -s "$BUILD_LOG" ]; then
		log "failed (exit $rc); last lines of $BUILD_LOG:"
		tail -n 40 "$BUILD_LOG" >&2
	fi
	for ((i = ${#MOUNTS[@]} - 1; i >= 0; i--)); do
		umount "${MOUNTS[i]}" 2>/dev/null || umount -l "${MOUNTS[i]}" 2>/dev/null || true
	done
	MOUNTS=()
	for i in "${TMP_TREES[@]}"; do
		safe_rm_tree "$i" || true
	done
}
trap cleanup EXIT

# rm -rf a tree only if nothing is mounted below it.
safe_rm_tree() {
	local dir=$1
	[ -e "$dir" ] || return 0
	dir=$(readlink -f "$dir")
	if awk -v d="$dir/" 'index($2 "/", d) == 1 { found = 1 } END { exit !found }' /proc/self/mounts; then
		log "refusing to delete $dir: something is still mounted below it"
		return 1
	fi
	rm -rf --one-file-system "$dir"
}

mount_proc() {
	mount -t proc proc "$1/proc"
	MOUNTS+=("$1/proc")
}

umount_all() {
	local i
	for ((i = ${#MOUNTS[@]} - 1; i >= 0; i--)); do
		umount "${MOUNTS[i]}"
	done
	MOUNTS=()
}

in_chroot() {
	local root=$1
	shift
	chroot "$root" /usr/bin/env -i PATH="$CHROOT_PATH" HOME=/root LANG=C.UTF-8 \
		DEBIAN_FRONTEND=noninteractive DEBCONF_NONINTERACTIVE_SEEN=true "$@"
}

# ----------------------------------------------------------------- apt mirrors
# Prints the first http(s) URI of an enabled "deb" source for suite $1.
find_mirror() {
	local want=$1 f
	local files=()
	shopt -s nullglob
	[ -f /etc/apt/sources.list ] && files+=(/etc/apt/sources.list)
	files+=(/etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources)
	shopt -u nullglob
	for f in "${files[@]}"; do
		case $f in
		*.sources)
			awk -v want="$want" '
				function flush() {
					if (types ~ /(^| )deb( |$)/ && (" " suites " ") ~ (" " want " ") && enabled != "no") {
						n = split(uris, u, " ")
						for (i = 1; i <= n; i++) if (u[i] ~ /^https?:\/\//) { print u[i]; break }
					}
					types = suites = uris = enabled = ""
				}
				/^[ \t]*$/ { flush(); next }
				/^[ \t]*#/ { next }
				tolower($1) == "types:" { $1 = ""; types = $0 }
				tolower($1) == "uris:" { $1 = ""; uris = $0 }
				tolower($1) == "suites:" { $1 = ""; suites = $0 }
				tolower($1) == "enabled:" { enabled = tolower($2) }
				END { flush() }' "$f"
			;;
		*)
			awk -v want="$want" '
				$1 == "deb" {
					i = 2
					if ($i ~ /^\[/) { while (i <= NF && $i !~ /\]$/) i++; i++ }
					if ($i ~ /^https?:\/\// && $(i + 1) == want) print $i
				}' "$f"
			;;
		esac
	done | head -n1
}

MIRROR=${CLD_DEBIAN_MIRROR:-$(find_mirror "$SUITE")}
MIRROR=${MIRROR:-http://deb.debian.org/debian}
MIRROR=${MIRROR%/}
SECURITY=${CLD_DEBIAN_SECURITY_MIRROR:-$(find_mirror "$SUITE-security")}
[ "$SECURITY" = none ] && SECURITY=
SECURITY=${SECURITY%/}
ARCH=$(dpkg --print-architecture 2>/dev/null || echo amd64)
log "mirror: $MIRROR${SECURITY:+, security: $SECURITY}, suite: $SUITE, arch: $ARCH"

# ------------------------------------------------------------------- base tree
BASE_KEY=$(printf 'v2 %s %s %s %s minbase' "$SUITE" "$ARCH" "$MIRROR" "$SECURITY" | sha256sum | cut -c1-12)
BASE=$CACHE/base-$BASE_KEY
if [ ! -f "$BASE/.complete" ]; then
	log "debootstrap --variant=minbase $SUITE into $BASE"
	safe_rm_tree "$BASE"
	TMP_TREES+=("$BASE")
	debootstrap --variant=minbase --arch="$ARCH" "$SUITE" "$BASE" "$MIRROR" >>"$BUILD_LOG" 2>&1 ||
		{ cat "$BASE/debootstrap/debootstrap.log" >>"$BUILD_LOG" 2>/dev/null || true; die "debootstrap failed"; }
	{
		echo "deb $MIRROR $SUITE main"
		echo "deb $MIRROR $SUITE-updates main"
		[ -z "$SECURITY" ] || echo "deb $SECURITY $SUITE-security main"
	} >"$BASE/etc/apt/sources.list"
	# Never start services inside the chroot / image build.
	printf '#!/bin/sh\nexit 101\n' >"$BASE/usr/sbin/policy-rc.d"
	chmod 755 "$BASE/usr/sbin/policy-rc.d"
	# Keep docs, man pages and translations out of the image (as Debian's slim images do).
	cat >"$BASE/etc/dpkg/dpkg.cfg.d/cld-nodoc" <<-'EOF'
		path-exclude /usr/share/doc/*
		path-include /usr/share/doc/*/copyright
		path-exclude /usr/share/man/*
		path-exclude /usr/share/info/*
		path-exclude /usr/share/groff/*
		path-exclude /usr/share/lintian/*
		path-exclude /usr/share/locale/*
		path-exclude /usr/lib/postgresql/*/lib/llvmjit*
		path-exclude /usr/lib/postgresql/*/lib/bitcode/*
	EOF
	# dpkg fsyncs every file by default; pointless for a throw-away build tree
	# (removed again from the final images).
	echo force-unsafe-io >"$BASE/etc/dpkg/dpkg.cfg.d/cld-unsafe-io"
	cat >"$BASE/etc/apt/apt.conf.d/cld-minimal" <<-'EOF'
		APT::Install-Recommends "false";
		APT::Install-Suggests "false";
		Acquire::Languages "none";
	EOF
	mkdir -p "$BASE/etc/postgresql-common/createcluster.d"
	echo 'create_main_cluster = false' >"$BASE/etc/postgresql-common/createcluster.d/cld.conf"
	find "$BASE/usr/share/doc" -mindepth 2 ! -name copyright ! -type d -delete 2>/dev/null || true
	rm -rf "$BASE/usr/share/man/"* "$BASE/usr/share/info/"* "$BASE/usr/share/locale/"*
	rm -rf "$BASE/var/cache/apt/archives/"*.deb "$BASE/debootstrap"
	touch "$BASE/.complete"
	TMP_TREES=()
else
	log "using cached base tree $BASE"
fi

# ------------------------------------------------------------------ entrypoints
write_mysql_entrypoint() {
	cat >"$1" <<'ENTRYPOINT_EOF'
#!/bin/bash
# cld/mysql entrypoint (MariaDB from Debian 12). Honours the official mysql/mariadb
# image variables: MYSQL_ROOT_PASSWORD, MYSQL_ALLOW_EMPTY_PASSWORD,
# MYSQL_RANDOM_ROOT_PASSWORD, MYSQL_ROOT_HOST, MYSQL_DATABASE, MYSQL_USER,
# MYSQL_PASSWORD (MARIADB_* spellings too).
set -euo pipefail

log() { echo "[entrypoint] $*" >&2; }
die() { log "error: $*"; exit 1; }

for v in ROOT_PASSWORD ALLOW_EMPTY_PASSWORD RANDOM_ROOT_PASSWORD ROOT_HOST DATABASE USER PASSWORD; do
	m=MYSQL_$v a=MARIADB_$v
	if [ -z "${!m:-}" ] && [ -n "${!a:-}" ]; then printf -v "$m" '%s' "${!a}"; fi
done
MYSQL_ROOT_PASSWORD=${MYSQL_ROOT_PASSWORD:-}
MYSQL_ROOT_HOST=${MYSQL_ROOT_HOST:-%}
MYSQL_DATABASE=${MYSQL_DATABASE:-}
MYSQL_USER=${MYSQL_USER:-}
MYSQL_PASSWORD=${MYSQL_PASSWORD:-}
DATADIR=/var/lib/mysql
SOCKET=/run/mysqld/mysqld.sock

is_yes() { case "${1:-}" in 1 | y | Y | yes | YES | Yes | true | TRUE | True) return 0 ;; esac; return 1; }
sql_str() { local s=${1//\\/\\\\}; s=${s//\'/\\\'}; printf "'%s'" "$s"; }
sql_ident() { printf '`%s`' "${1//\`/\`\`}"; }

init_db() {
	local server=("$@")
	if [ -z "$MYSQL_ROOT_PASSWORD" ] && ! is_yes "${MYSQL_ALLOW_EMPTY_PASSWORD:-}" && ! is_yes "${MYSQL_RANDOM_ROOT_PASSWORD:-}"; then
		die "database is uninitialized and no root password given: set MYSQL_ROOT_PASSWORD (or MYSQL_ALLOW_EMPTY_PASSWORD=yes / MYSQL_RANDOM_ROOT_PASSWORD=yes)"
	fi
	if [ "$MYSQL_USER" = root ]; then
		die "MYSQL_USER=root is not allowed; use MYSQL_ROOT_PASSWORD for root"
	fi
	if [ -n "$MYSQL_USER" ] && [ -z "$MYSQL_PASSWORD" ]; then
		die "MYSQL_USER is set but MYSQL_PASSWORD is empty"
	fi
	if is_yes "${MYSQL_RANDOM_ROOT_PASSWORD:-}" && [ -z "$MYSQL_ROOT_PASSWORD" ]; then
		MYSQL_ROOT_PASSWORD=$(head -c 24 /dev/urandom | base64 | tr -d '/+=')
		log "GENERATED ROOT PASSWORD: $MYSQL_ROOT_PASSWORD"
	fi

	log "initializing database in $DATADIR"
	mariadb-install-db --user=mysql --datadir="$DATADIR" --auth-root-authentication-method=normal \
		--skip-test-db --skip-name-resolve >/dev/null

	log "starting temporary server (unix socket only)"
	"${server[@]}" --user=mysql --datadir="$DATADIR" --skip-networking --socket="$SOCKET" \
		--skip-log-bin --skip-name-resolve &
	local pid=$! i
	for ((i = 0; i < 120; i++)); do
		if mariadb --protocol=socket --socket="$SOCKET" -uroot -e 'SELECT 1' >/dev/null 2>&1; then break; fi
		kill -0 "$pid" 2>/dev/null || die "temporary server exited during initialization"
		sleep 0.5
	done
	((i < 120)) || die "temporary server did not start within 60s"

	local root_auth=
	if [ -n "$MYSQL_ROOT_PASSWORD" ]; then
		root_auth="IDENTIFIED VIA mysql_native_password USING PASSWORD($(sql_str "$MYSQL_ROOT_PASSWORD")) OR unix_socket"
	fi
	{
		echo "SET @@SESSION.SQL_LOG_BIN=0;"
		echo "DROP USER IF EXISTS ''@'localhost', 'root'@'127.0.0.1', 'root'@'::1';"
		echo "EXECUTE IMMEDIATE CONCAT('DROP USER IF EXISTS root@''', @@hostname, '''');"
		echo "EXECUTE IMMEDIATE CONCAT('DROP USER IF EXISTS ''''@''', @@hostname, '''');"
		[ -z "$root_auth" ] || echo "ALTER USER 'root'@'localhost' $root_auth;"
		if [ "$MYSQL_ROOT_HOST" != localhost ]; then
			echo "CREATE USER IF NOT EXISTS 'root'@$(sql_str "$MYSQL_ROOT_HOST");"
			[ -z "$MYSQL_ROOT_PASSWORD" ] ||
				echo "ALTER USER 'root'@$(sql_str "$MYSQL_ROOT_HOST") IDENTIFIED BY $(sql_str "$MYSQL_ROOT_PASSWORD");"
			echo "GRANT ALL ON *.* TO 'root'@$(sql_str "$MYSQL_ROOT_HOST") WITH GRANT OPTION;"
		fi
		[ -z "$MYSQL_DATABASE" ] || echo "CREATE DATABASE IF NOT EXISTS $(sql_ident "$MYSQL_DATABASE");"
		if [ -n "$MYSQL_USER" ]; then
			echo "CREATE USER $(sql_str "$MYSQL_USER")@'%' IDENTIFIED BY $(sql_str "$MYSQL_PASSWORD");"
			[ -z "$MYSQL_DATABASE" ] ||
				echo "GRANT ALL ON $(sql_ident "$MYSQL_DATABASE").* TO $(sql_str "$MYSQL_USER")@'%';"
		fi
		echo "FLUSH PRIVILEGES;"
	} | mariadb --protocol=socket --socket="$SOCKET" -uroot --binary-mode mysql ||
		die "setup SQL failed"

	local f
	for f in /docker-entrypoint-initdb.d/*; do
		[ -e "$f" ] || continue
		# shellcheck disable=SC1090 # init scripts are sourced, like the official images do
		case $f in
		*.sh) log "running $f"; . "$f" ;;
		*.sql) log "running $f"; mariadb --protocol=socket --socket="$SOCKET" -uroot ${MYSQL_DATABASE:+"$MYSQL_DATABASE"} <"$f" ;;
		*) log "ignoring $f" ;;
		esac
	done

	log "stopping temporary server"
	kill -TERM "$pid"
	wait "$pid" || true
	log "initialization done"
}

if [ "${1:0:1}" = - ]; then set -- mariadbd "$@"; fi

case $1 in
mariadbd | mysqld | /usr/sbin/mariadbd | /usr/sbin/mysqld)
	if [ "$(id -u)" = 0 ]; then
		mkdir -p "$DATADIR" /run/mysqld
		chown mysql:mysql /run/mysqld
		find "$DATADIR" \! -user mysql -exec chown mysql:mysql '{}' +
	fi
	if [ ! -d "$DATADIR/mysql" ]; then
		init_db "$1"
	else
		log "database already initialized in $DATADIR, skipping setup"
	fi
	server=("$1" --datadir="$DATADIR" --bind-address=0.0.0.0 --port=3306 --socket="$SOCKET" "${@:2}")
	if [ "$(id -u)" = 0 ]; then
		exec setpriv --reuid=mysql --regid=mysql --init-groups "${server[@]}"
	fi
	exec "${server[@]}"
	;;
esac
exec "$@"
ENTRYPOINT_EOF
	chmod 755 "$1"
}

write_postgres_entrypoint() {
	cat >"$1" <<'ENTRYPOINT_EOF'
#!/bin/bash
# cld/postgres entrypoint (PostgreSQL from Debian 12). Honours the official postgres
# image variables: POSTGRES_PASSWORD, POSTGRES_USER, POSTGRES_DB,
# POSTGRES_INITDB_ARGS, POSTGRES_HOST_AUTH_METHOD, PGDATA.
set -euo pipefail

log() { echo "[entrypoint] $*" >&2; }
die() { log "error: $*"; exit 1; }

export PGDATA=${PGDATA:-/var/lib/postgresql/data}
POSTGRES_USER=${POSTGRES_USER:-postgres}
POSTGRES_DB=${POSTGRES_DB:-$POSTGRES_USER}
POSTGRES_PASSWORD=${POSTGRES_PASSWORD:-}
POSTGRES_HOST_AUTH_METHOD=${POSTGRES_HOST_AUTH_METHOD:-scram-sha-256}

init_db() {
	if [ -z "$POSTGRES_PASSWORD" ] && [ "$POSTGRES_HOST_AUTH_METHOD" != trust ]; then
		die "database is uninitialized and POSTGRES_PASSWORD is not set (or set POSTGRES_HOST_AUTH_METHOD=trust)"
	fi
	log "initializing database in $PGDATA"
	local pwfile
	pwfile=$(mktemp)
	printf '%s\n' "$POSTGRES_PASSWORD" >"$pwfile"
	# shellcheck disable=SC2086 # POSTGRES_INITDB_ARGS is split on purpose
	initdb --username="$POSTGRES_USER" ${POSTGRES_PASSWORD:+--pwfile="$pwfile"} \
		--auth-local=trust --auth-host="$POSTGRES_HOST_AUTH_METHOD" \
		--encoding=UTF8 --locale=C.UTF-8 ${POSTGRES_INITDB_ARGS:-} -D "$PGDATA" >/dev/null
	rm -f "$pwfile"
	{
		echo
		echo "# added by cld entrypoint: password auth for every host"
		echo "host all all all $POSTGRES_HOST_AUTH_METHOD"
	} >>"$PGDATA/pg_hba.conf"
	{
		echo
		echo "# added by cld entrypoint"
		echo "listen_addresses = '*'"
		echo "jit = off # the image has no LLVM"
	} >>"$PGDATA/postgresql.conf"

	log "starting temporary server (unix socket only)"
	pg_ctl -D "$PGDATA" -o "-c listen_addresses='' -p 5432" -w -t 60 start
	local psql=(psql -X -q -v ON_ERROR_STOP=1 --username="$POSTGRES_USER" --no-password)
	if [ "$POSTGRES_DB" != postgres ]; then
		"${psql[@]}" --dbname=postgres -v db="$POSTGRES_DB" <<<'CREATE DATABASE :"db";'
	fi
	local f
	for f in /docker-entrypoint-initdb.d/*; do
		[ -e "$f" ] || continue
		# shellcheck disable=SC1090 # init scripts are sourced, like the official images do
		case $f in
		*.sh) log "running $f"; . "$f" ;;
		*.sql) log "running $f"; "${psql[@]}" --dbname="$POSTGRES_DB" -f "$f" ;;
		*) log "ignoring $f" ;;
		esac
	done
	log "stopping temporary server"
	pg_ctl -D "$PGDATA" -m fast -w stop
	log "initialization done"
}

if [ "${1:0:1}" = - ]; then set -- postgres "$@"; fi

if [ "$1" = postgres ] && [ "$(id -u)" = 0 ]; then
	mkdir -p "$PGDATA" /var/run/postgresql
	chown postgres:postgres /var/run/postgresql
	chmod 2775 /var/run/postgresql
	find "$PGDATA" \! -user postgres -exec chown postgres:postgres '{}' +
	chmod 700 "$PGDATA"
	export HOME=/var/lib/postgresql USER=postgres
	exec setpriv --reuid=postgres --regid=postgres --init-groups "${BASH_SOURCE[0]}" "$@"
fi

if [ "$1" = postgres ]; then
	if [ ! -s "$PGDATA/PG_VERSION" ]; then
		init_db
	else
		log "database already initialized in $PGDATA, skipping setup"
	fi
fi
exec "$@"
ENTRYPOINT_EOF
	chmod 755 "$1"
}

# --------------------------------------------------------------- per-image tree
# install_stub ROOT PKG: install an empty, held package named PKG so that apt
# treats the dependency as satisfied without pulling in the real one. Used for
# libllvm14 (+ libz3-4), which postgresql-15 needs only for JIT: ~150 MB.
install_stub() {
	local root=$1 pkg=$2 ver arch dir
	ver=$(in_chroot "$root" apt-cache show --no-all-versions "$pkg" | awk '/^Version:/ { print $2; exit }')
	[ -n "$ver" ] || die "no candidate version for $pkg"
	arch=$(in_chroot "$root" dpkg --print-architecture)
	dir=$root/tmp/stub-$pkg
	mkdir -p "$dir/DEBIAN"
	cat >"$dir/DEBIAN/control" <<-EOF
		Package: $pkg
		Version: $ver+cld.stub1
		Architecture: $arch
		Multi-Arch: same
		Section: oldlibs
		Priority: optional
		Maintainer: cld <cld@localhost>
		Description: empty stand-in for $pkg (added by cld's build-db-images.sh)
	EOF
	in_chroot "$root" dpkg-deb --build "/tmp/stub-$pkg" "/tmp/stub-$pkg.deb" >>"$BUILD_LOG" 2>&1
	in_chroot "$root" dpkg -i "/tmp/stub-$pkg.deb" >>"$BUILD_LOG" 2>&1
	in_chroot "$root" apt-mark hold "$pkg" >>"$BUILD_LOG" 2>&1
	rm -rf "$dir" "$dir.deb"
}

# build_tree NAME "STUBS" PACKAGES...  -> $CACHE/NAME-rootfs, ready to import
build_tree() {
	local name=$1 stubs=$2 stub
	shift 2
	local tree=$CACHE/$name-rootfs stamp="$RECIPE $BASE_KEY"
	if [ -f "$tree/.cld-stamp" ] && [ "$(cat "$tree/.cld-stamp")" = "$stamp" ]; then
		log "using cached $name tree $tree"
		return
	fi
	local tmp=$CACHE/$name-rootfs.tmp
	safe_rm_tree "$tmp"
	TMP_TREES+=("$tmp")
	log "copying base tree for $name"
	cp -a "$BASE" "$tmp"
	rm -f "$tmp/.complete"
	cp -L /etc/resolv.conf "$tmp/etc/resolv.conf" 2>/dev/null || true
	# Reuse .debs downloaded by earlier runs (hard links, same file system).
	cp -al "$CACHE/debs/." "$tmp/var/cache/apt/archives/"
	mount_proc "$tmp"
	log "installing $* into $name tree"
	in_chroot "$tmp" apt-get update >>"$BUILD_LOG" 2>&1
	in_chroot "$tmp" apt-get -y -o Dpkg::Use-Pty=0 dist-upgrade >>"$BUILD_LOG" 2>&1
	log "$name: apt-get update + dist-upgrade done"
	for stub in $stubs; do install_stub "$tmp" "$stub"; done
	in_chroot "$tmp" apt-get install -y -o Dpkg::Use-Pty=0 --no-install-recommends "$@" >>"$BUILD_LOG" 2>&1
	umount_all
	local deb
	for deb in "$tmp"/var/cache/apt/archives/*.deb; do
		[ -e "$deb" ] || continue
		ln -f "$deb" "$CACHE/debs/" 2>/dev/null || cp -f "$deb" "$CACHE/debs/"
	done

	# Slim down.
	rm -rf "$tmp"/var/cache/apt/archives/*.deb "$tmp"/var/cache/apt/*.bin "$tmp"/var/lib/apt/lists/* \
		"$tmp"/var/cache/debconf/*-old "$tmp"/var/lib/dpkg/*-old "$tmp"/tmp/* "$tmp"/var/tmp/* \
		"$tmp"/usr/share/man/* "$tmp"/usr/share/info/* "$tmp"/usr/share/locale/*
	find "$tmp/var/log" -type f -delete
	find "$tmp/usr/share/doc" -mindepth 2 ! -name copyright ! -type d -delete 2>/dev/null || true
	: >"$tmp/etc/resolv.conf"
	rm -f "$tmp/etc/dpkg/dpkg.cfg.d/cld-unsafe-io"
	echo "$name" >"$tmp/etc/hostname"

	mkdir -p "$tmp/docker-entrypoint-initdb.d"
	case $name in
	mysql)
		rm -rf "$tmp"/var/lib/mysql/* "$tmp"/run/mysqld/*
		mkdir -p "$tmp/var/lib/mysql" "$tmp/run/mysqld"
		in_chroot "$tmp" chown mysql:mysql /var/lib/mysql /run/mysqld
		chmod 755 "$tmp/var/lib/mysql"
		write_mysql_entrypoint "$tmp/usr/local/bin/docker-entrypoint.sh"
		;;
	postgres)
		mkdir -p "$tmp/var/lib/postgresql/data" "$tmp/var/run/postgresql"
		in_chroot "$tmp" chown postgres:postgres /var/lib/postgresql/data /var/run/postgresql
		chmod 700 "$tmp/var/lib/postgresql/data"
		chmod 2775 "$tmp/var/run/postgresql"
		write_postgres_entrypoint "$tmp/usr/local/bin/docker-entrypoint.sh"
		;;
	esac

	echo "$stamp" >"$tmp/.cld-stamp"
	safe_rm_tree "$tree"
	mv "$tmp" "$tree"
	TMP_TREES=()
}

# import_tree NAME IMAGE STOPSIGNAL --change... : import $CACHE/NAME-rootfs as IMAGE
import_tree() {
	local name=$1 image=$2 stopsignal=$3
	shift 3
	local tree=$CACHE/$name-rootfs old
	old=$(docker image inspect -f '{{.Id}}' "$image" 2>/dev/null || true)
	log "importing $tree as $image"
	tar -C "$tree" --numeric-owner --one-file-system \
		--exclude=./.cld-stamp --exclude='./proc/*' --exclude='./sys/*' --exclude='./dev/*' \
		-c . |
		docker import \
			--message "cld $name image from Debian $SUITE packages (scripts/build-db-images.sh)" \
			--change "LABEL cld.image-recipe=$RECIPE" \
			--change "LABEL org.opencontainers.image.source=scripts/build-db-images.sh" \
			--change 'ENTRYPOINT ["/usr/local/bin/docker-entrypoint.sh"]' \
			--change 'ENV LANG=C.UTF-8' \
			"$@" - "$image" >/dev/null
	if [ "$stopsignal" != SIGTERM ]; then
		# docker import/commit reject STOPSIGNAL; add it with a one-line build
		# (legacy builder, FROM a local image: nothing is pulled).
		local ctx
		ctx=$(mktemp -d)
		printf 'FROM %s\nSTOPSIGNAL %s\n' "$image" "$stopsignal" >"$ctx/Dockerfile"
		DOCKER_BUILDKIT=0 docker build -q -t "$image" "$ctx" >>"$BUILD_LOG" 2>&1 || { rm -rf "$ctx"; die "docker build (STOPSIGNAL) failed"; }
		rm -rf "$ctx"
	fi
	local new
	new=$(docker image inspect -f '{{.Id}}' "$image")
	if [ -n "$old" ] && [ "$old" != "$new" ]; then
		docker image rm "$old" >>"$BUILD_LOG" 2>&1 || log "note: could not remove the previous $image ($old)"
	fi
	log "built $image ($(docker image inspect -f '{{.Size}}' "$image" | awk '{ printf "%.0f MB", $1 / 1e6 }'))"
}

# The two trees are independent: build them in parallel (dpkg is mostly I/O
# bound), each with its own log, then import them (also in parallel).
tree_args() {
	case $1 in
	mysql) echo "mysql||mariadb-server" ;;
	postgres) echo "postgres|libllvm14|postgresql" ;;
	esac
}
PIDS=()
for w in "${TODO[@]}"; do
	(
		BUILD_LOG=$CACHE/build-$w.log
		: >"$BUILD_LOG"
		MOUNTS=()
		TMP_TREES=()
		trap cleanup EXIT
		IFS='|' read -r n stubs pkgs <<<"$(tree_args "$w")"
		# shellcheck disable=SC2086 # package list
		build_tree "$n" "$stubs" $pkgs
	) &
	PIDS+=($!)
done
failed=0
for p in "${PIDS[@]}"; do wait "$p" || failed=1; done
[ "$failed" = 0 ] || die "building a tree failed (see the log tail above)"

import_image() {
	case $1 in
	mysql)
		import_tree mysql "$MYSQL_IMAGE" SIGTERM \
			--change "ENV PATH=$CHROOT_PATH" \
			--change 'CMD ["mariadbd"]' \
			--change 'EXPOSE 3306' \
			--change 'VOLUME /var/lib/mysql'
		;;
	postgres)
		pgbin=$(find "$CACHE/postgres-rootfs/usr/lib/postgresql" -mindepth 2 -maxdepth 2 -name bin | sort -V | tail -n1)
		[ -n "$pgbin" ] || die "no /usr/lib/postgresql/*/bin in postgres tree"
		pgbin=${pgbin#"$CACHE/postgres-rootfs"}
		import_tree postgres "$POSTGRES_IMAGE" SIGINT \
			--change "ENV PATH=$pgbin:$CHROOT_PATH" \
			--change 'ENV PGDATA=/var/lib/postgresql/data' \
			--change 'CMD ["postgres"]' \
			--change 'EXPOSE 5432' \
			--change 'VOLUME /var/lib/postgresql/data'
		;;
	esac
}
PIDS=()
for w in "${TODO[@]}"; do
	import_image "$w" &
	PIDS+=($!)
done
for p in "${PIDS[@]}"; do wait "$p" || failed=1; done
[ "$failed" = 0 ] || die "importing an image failed"

done_msg "done: ${TODO[*]}"
