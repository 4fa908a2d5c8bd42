# tests/lib/pgenv.sh — a PostgreSQL server of the test's own: a cluster
# made by initdb in a temporary folder, owned and run by an unprivileged
# user (nobody when the test runs as root), listening on a Unix socket in
# that folder only (listen_addresses ''), stopped and removed by pg_stop.
# pg_start sets PG_DIR and PG_URI ("postgres:host=... dbname=... user=...",
# the form hwgw-registry --db takes) and returns 77 when the machine
# cannot run a server (no PostgreSQL binaries, no unprivileged user).
pg_bindir() {
	for _d in "${HWG_PG_BINDIR:-}" $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -rV); do
		[ -n "$_d" ] && [ -x "$_d/initdb" ] && [ -x "$_d/pg_ctl" ] && { echo "$_d"; return 0; }
	done
	return 1
}

# pg_as CMD...: CMD as the cluster's owner (nobody when we are root).
pg_as() {
	if [ "$(id -u)" -eq 0 ]; then
		setpriv --reuid="$PG_USER" --regid="$PG_GROUP" --clear-groups -- "$@"
	else
		"$@"
	fi
}

pg_start() {
	PG_BIN=$(pg_bindir) || { echo "pgenv: no PostgreSQL binaries (initdb, pg_ctl)" >&2; return 77; }
	PG_USER=$(id -un)
	PG_GROUP=$(id -gn)
	if [ "$(id -u)" -eq 0 ]; then
		id nobody >/dev/null 2>&1 || { echo "pgenv: no user nobody to run the server as" >&2; return 77; }
		command -v setpriv >/dev/null || { echo "pgenv: no setpriv" >&2; return 77; }
		PG_USER=nobody
		PG_GROUP=$(id -gn nobody)
	fi
	PG_DIR=$(mktemp -d /tmp/hwgw-pg.XXXXXX) || return 1
	chmod 0755 "$PG_DIR"
	mkdir "$PG_DIR/data" && chown "$PG_USER:$PG_GROUP" "$PG_DIR" "$PG_DIR/data" || return 1
	if ! pg_as "$PG_BIN/initdb" -D "$PG_DIR/data" -A trust -U hwgw -E UTF8 --locale=C \
		--no-sync >"$PG_DIR/initdb.log" 2>&1; then
		echo "pgenv: initdb failed:" >&2
		tail -n 20 "$PG_DIR/initdb.log" >&2
		return 1
	fi
	if ! pg_as "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w -t 60 \
		-o "-c listen_addresses='' -k $PG_DIR -c fsync=off -c max_connections=40" \
		start >"$PG_DIR/pg_ctl.log" 2>&1; then
		echo "pgenv: the server did not start:" >&2
		tail -n 20 "$PG_DIR/server.log" >&2
		return 1
	fi
	PG_URI="postgres:host=$PG_DIR dbname=postgres user=hwgw"
	export PG_URI
}

# pg_stop: stop the server (fast shutdown) and remove its folder.
pg_stop() {
	[ -n "${PG_DIR:-}" ] && [ -d "$PG_DIR" ] || return 0
	pg_as "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m fast -w -t 30 stop >/dev/null 2>&1
	rm -rf "$PG_DIR"
	PG_DIR=
}
