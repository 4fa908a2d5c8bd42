# tests/lib/veinenv.sh — hwsim's palm-vein terminals on umockdev's
# simulated USB bus, for a process that must reach them through libusb.
# Source it after gwenv.sh (or with $GW set to a scratch directory), then:
#   vein_sim_start SERIAL...   hwsim with those terminals (control socket
#                              $GW/vein.ctl); sets UMOCKDEV_DIR
#   vein_env CMD...            run CMD with umockdev's preload and the bus
#   vein CMD...                one "vein ..." control command; prints its data
#   vein_sim_stop
# and, for a gateway (after gw_setup, before gw_start):
#   vein_setup                 hwsim with terminal $VEIN_TERMINAL, hwgwd to run
#                              under the preload, [vein] and [operator] settings
#   vein_call CLIENT OP ARGS_JSON [hwgwctl options]   call OP over the socket
#                              with CLIENT's operator session if it has one
#                              ($GW/sessions/CLIENT); result JSON on stdout
#   operator_bootstrap         pair the terminal and bring in the first admin
#                              operator "adm.1" (enrolled by client admin,
#                              confirmed by client admin2); admin's session
#   operator_login CLIENT OPERATOR ROLE   enrol OPERATOR (the palm of the
#                              simulated person of that name) and verify it
#                              on CLIENT, whose session it then is
# A process under the preload sees the testbed's /sys and /dev instead of
# the machine's; AddressSanitizer must be told that the preload comes first.
# hwsim itself runs under it as well (see vein_sim_start).

. "$HWG_SOURCE_DIR/tests/lib/stop.sh"
HWSIM="${HWSIM:-$HWG_BUILD_DIR/hw-sim/hwsim}"
VEIN_TERMINAL=PV-SIM-0001
UMOCKDEV_PRELOAD=libumockdev-preload.so.0

vein_sim_start() {
	_args=
	for _s in "$@"; do _args="$_args --vein $_s"; done
	# hwsim runs under the preload too: the uevents it sends for plugging
	# and unplugging are read back through libudev from the testbed's /sys.
	# (exec: $HWSIM_PID must be hwsim itself, for the SIGTERM that stops it)
	# shellcheck disable=SC2086
	(TMPDIR="$GW" exec env LD_PRELOAD="$(vein_preload)" ASAN_OPTIONS="$(vein_asan)" \
		"$HWSIM" $_args ${HWSIM_EXTRA_ARGS:-} --control "$GW/vein.ctl" 2>>"$GW/vein-sim.log") &
	HWSIM_PID=$!
	i=0
	until [ -S "$GW/vein.ctl" ]; do
		i=$((i + 1))
		[ $i -le 200 ] && kill -0 "$HWSIM_PID" 2>/dev/null ||
			{ echo "hwsim did not start" >&2; cat "$GW/vein-sim.log" >&2; return 1; }
		sleep 0.05
	done
	UMOCKDEV_DIR=$("$HWSIM" --control "$GW/vein.ctl" --send usb-root | sed -n 's/^ok //p')
	[ -d "$UMOCKDEV_DIR" ] || { echo "hwsim gave no USB testbed" >&2; return 1; }
	export UMOCKDEV_DIR
}

vein_sim_stop() {
	[ -n "${HWSIM_PID:-}" ] || return 0
	stop_within "$HWSIM_PID" "the terminals' hwsim" 30
	wait "$HWSIM_PID" 2>/dev/null
	HWSIM_PID=
}

vein_preload() { printf '%s' "$UMOCKDEV_PRELOAD${LD_PRELOAD:+:$LD_PRELOAD}"; }
vein_asan() { printf '%s' "${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0"; }

vein_env() {
	LD_PRELOAD="$(vein_preload)" ASAN_OPTIONS="$(vein_asan)" "$@"
}

vein() {
	_reply=$("$HWSIM" --control "$GW/vein.ctl" --send "vein $*") || {
		echo "hwsim: vein $* -> $_reply" >&2
		return 1
	}
	printf '%s\n' "${_reply#ok}" | sed 's/^ //'
}

vein_setup() {
	vein_sim_start "$VEIN_TERMINAL" || return 1
	GW_WRAP="env LD_PRELOAD=$(vein_preload) ASAN_OPTIONS=$(vein_asan) UMOCKDEV_DIR=$UMOCKDEV_DIR"
	mkdir -m 0700 -p "$GW/sessions"
	cat >>"$GW/hwgwd.conf" <<CONF
[vein]
capture_timeout_ms = ${VEIN_CAPTURE_TIMEOUT_MS:-3000}
identify = ${VEIN_IDENTIFY:-no}
[operator]
session_idle_s = ${OP_SESSION_IDLE_S:-600}
session_max_s = ${OP_SESSION_MAX_S:-28800}
max_failures = ${OP_MAX_FAILURES:-5}
lockout_s = ${OP_LOCKOUT_S:-900}
CONF
}

vein_call() {
	printf '%s' "$3" >"$GW/args.json"
	_c=$1 _op=$2
	shift 3
	if [ -f "$GW/sessions/$_c" ]; then
		set -- --session-file "$GW/sessions/$_c" "$@"
	fi
	gw_call "$_c" "$_op" --socket "$GW/hwgw.sock" --args-file "$GW/args.json" "$@"
}

# ms since the epoch, $1 seconds from now
vein_ms_from_now() {
	echo $((($(date +%s) + $1) * 1000))
}

operator_bootstrap() {
	_fp=$(vein fingerprint 0) &&
		vein_call admin terminal.pair \
			"{\"terminal\":\"$VEIN_TERMINAL\",\"fingerprint\":\"$_fp\"}" >/dev/null &&
		vein present 0 adm.1 3 >/dev/null &&
		vein_call admin operator.enroll "{\"terminal\":\"$VEIN_TERMINAL\",\"operator_id\":\"adm.1\",\"role\":\"admin\",\"valid_until\":$(vein_ms_from_now 2592000)}" >/dev/null &&
		vein_call admin2 operator.confirm '{"operator_id":"adm.1"}' >/dev/null &&
		vein present 0 adm.1 >/dev/null &&
		vein_call admin operator.verify \
			"{\"terminal\":\"$VEIN_TERMINAL\",\"operator_id\":\"adm.1\"}" \
			--session-out "$GW/sessions/admin" >/dev/null
}

operator_login() {
	vein present 0 "$2" 3 >/dev/null &&
		vein_call admin operator.enroll "{\"terminal\":\"$VEIN_TERMINAL\",\"operator_id\":\"$2\",\"role\":\"$3\",\"valid_until\":$(vein_ms_from_now 2592000)}" >/dev/null &&
		vein present 0 "$2" >/dev/null &&
		vein_call "$1" operator.verify \
			"{\"terminal\":\"$VEIN_TERMINAL\",\"operator_id\":\"$2\"}" \
			--session-out "$GW/sessions/$1" >/dev/null
}
