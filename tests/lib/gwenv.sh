# tests/lib/gwenv.sh — start a real hwgwd on a fresh SoftHSM2 token and
# state directory, for integration tests and the demo.  Source it, then:
#   gw_setup            make $GW (temp dir), the token, keys and config
#   gw_start / gw_stop  run hwgwd in the background / SIGTERM and wait
#                       (status 70 if a net process ended meanwhile, 71 if
#                       it did not stop within 60 s: see stop_within)
#   gw_client ID ROLE [UID]   make a key pair $GW/keys/ID.{key,pub}, register it
#   gw_cleanup          stop and remove everything (installed as an EXIT trap)
# Needs HWG_SOURCE_DIR and HWG_BUILD_DIR (ctest sets them).

: "${HWG_SOURCE_DIR:?}" "${HWG_BUILD_DIR:?}"
. "$HWG_SOURCE_DIR/tests/lib/stop.sh"
HWGWD="$HWG_BUILD_DIR/gateway/hwgwd"
HWGWCTL="$HWG_BUILD_DIR/client/hwgwctl"
GW_ID="${GW_ID:-test-gw-01}"

gw_setup() {
	GW=$(mktemp -d /tmp/hwgw-test.XXXXXX)
	trap gw_cleanup EXIT
	"$HWG_SOURCE_DIR/scripts/hsm-init" --dir "$GW/hsm" >"$GW/hsm-init.log" 2>&1 ||
		{ cat "$GW/hsm-init.log" >&2; return 1; }
	export SOFTHSM2_CONF="$GW/hsm/softhsm2.conf"
	mkdir -m 0700 "$GW/keys"
	cat >"$GW/hwgwd.conf" <<CONF
[gateway]
id = $GW_ID
state_dir = ${GW_STATE:-$GW/state}
log_level = info
[api]
clock_skew = 30
[unix]
socket = $GW/hwgw.sock
mode = 0600
[http]
listen = 127.0.0.1
port = 0
allowed_origins = http://localhost:8080
[hsm]
module = ${HWG_P11_MODULE:-/usr/lib/softhsm/libsofthsm2.so}
token = hwgw
pin_file = $GW/hsm/hsm.pin
[audit]
checkpoint_every = ${GW_CHECKPOINT_EVERY:-50}
CONF
	# the store must exist before clients are added: create it as hwgwd would
	gw_start && gw_stop
}

gw_start() {
	: >"$GW/hwgwd.log"
	# GW_WRAP: e.g. veinenv.sh's "env LD_PRELOAD=..." (exec'd, so $! is hwgwd);
	# HWG_VALGRIND=1: hwgwd under memcheck, a log per process in $GW
	_vg=
	[ -z "${HWG_VALGRIND:-}" ] || _vg="valgrind --leak-check=full --track-origins=yes
		--errors-for-leak-kinds=definite --log-file=$GW/valgrind.%p.log
		${HWG_VALGRIND_SUPP:+--suppressions=$HWG_VALGRIND_SUPP}"
	# shellcheck disable=SC2086
	${GW_WRAP:-} $_vg "$HWGWD" --foreground --config "$GW/hwgwd.conf" 2>>"$GW/hwgwd.log" &
	GW_PID=$!
	i=0
	while ! grep -q 'event=ready' "$GW/hwgwd.log"; do
		i=$((i + 1))
		if [ $i -gt "${GW_START_TRIES:-200}" ] || ! kill -0 "$GW_PID" 2>/dev/null; then
			echo "hwgwd did not start:" >&2
			cat "$GW/hwgwd.log" >&2
			return 1
		fi
		sleep 0.05
	done
	GW_PORT=$(sed -n 's/.*event=ready.*http_port=\([0-9]*\).*/\1/p' "$GW/hwgwd.log" | tail -n 1)
	GW_URL="http://127.0.0.1:$GW_PORT"
	export GW GW_PID GW_PORT GW_URL
}

gw_stop() {
	[ -n "${GW_PID:-}" ] || return 0
	# GW_STOP_SECONDS: how long a SIGTERM may take (60 s; 180 under valgrind)
	_limit=${GW_STOP_SECONDS:-60}
	[ -z "${HWG_VALGRIND:-}" ] || _limit=180
	_hung=0
	stop_within "$GW_PID" hwgwd "$_limit" || _hung=1
	wait "$GW_PID" 2>/dev/null
	GW_STATUS=$?
	[ $_hung -eq 0 ] || { tail -n 20 "$GW/hwgwd.log" >&2; GW_STATUS=71; }
	GW_PID=
	# a net process that ended on its own (a seccomp kill, a crash) is a
	# failed stop, unless the test caused it (GW_NET_RESTARTS_OK=1)
	if [ -z "${GW_NET_RESTARTS_OK:-}" ] && grep 'event=net.ended' "$GW/hwgwd.log" >&2; then
		GW_STATUS=70
	fi
	return $GW_STATUS
}

gw_client() {
	"$HWGWCTL" keygen --out "$GW/keys/$1" --alg "${GW_KEY_ALG:-ed25519}" >/dev/null || return 1
	if [ -n "${3:-}" ]; then
		"$HWGWCTL" client add --config "$GW/hwgwd.conf" --id "$1" --role "$2" \
			--pubkey "$GW/keys/$1.pub" --uid "$3" >/dev/null
	else
		"$HWGWCTL" client add --config "$GW/hwgwd.conf" --id "$1" --role "$2" \
			--pubkey "$GW/keys/$1.pub" >/dev/null
	fi
}

# hwgwctl call with this environment's connection settings.
gw_call() {
	_client=$1
	shift
	"$HWGWCTL" call --client "$_client" --key "$GW/keys/$_client.key" \
		--gateway-id "$GW_ID" --gateway-pubkey "$GW/hsm/gateway-response.pub.pem" "$@"
}

# With HWG_VALGRIND=1: memcheck's verdict on every hwgwd this test ran.
# A log with an error (an invalid access, a use of an uninitialised
# value, a definite leak: --errors-for-leak-kinds=definite) is printed,
# copied to $HWG_BUILD_DIR/memcheck/ and fails the test.  A process the
# test SIGKILLed writes no summary; what it reported before stays checked.
gw_memcheck_verdict() {
	[ -n "${HWG_VALGRIND:-}" ] && [ -n "${GW:-}" ] || return 0
	_bad=0
	for _log in "$GW"/valgrind.*.log; do
		[ -e "$_log" ] || continue
		if grep -Eq 'ERROR SUMMARY: [1-9]|Invalid (read|write|free)|uninitialised|definitely lost: [1-9]' "$_log"; then
			mkdir -p "$HWG_BUILD_DIR/memcheck"
			cp "$_log" "$HWG_BUILD_DIR/memcheck/$(basename "$0" .sh).$(basename "$_log")"
			cat "$_log" >&2
			_bad=1
		fi
	done
	return $_bad
}

# gw_cleanup [STATUS]: STATUS the script's (the EXIT trap's $?, passed on
# by the cleanups of cardenv.sh and veincheck.sh, which run first)
gw_cleanup() {
	_status=${1:-$?}
	gw_stop || true
	# a hwgwd that would not stop (here or in the caller's cleanup) fails the test
	[ "${GW_STATUS:-0}" != 71 ] || _status=1
	gw_memcheck_verdict || _status=1
	if [ -n "${GW:-}" ] && [ -z "${HWG_KEEP:-}" ]; then
		rm -rf "$GW"
	fi
	exit $_status
}
