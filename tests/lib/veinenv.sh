# tests/lib/veinenv.sh — hwsim's palm-vein terminals on umockdev's
# simulated USB bus, for a process that must reach them through libusb.
# Source it after gwenv.sh (or with $GW set to a scratch directory), then:
#   vein_sim_start SERIAL...   hwsim with those terminals (control socket
#                              $GW/hwsim.ctl); sets UMOCKDEV_DIR
#   vein_env CMD...            run CMD with umockdev's preload and the bus
#   vein CMD...                one "vein ..." control command; prints its data
#   vein_sim_stop
# A process under the preload sees the testbed's /sys and /dev instead of
# the machine's; AddressSanitizer must be told that the preload comes first.
# hwsim itself runs under it as well (see vein_sim_start).

HWSIM="${HWSIM:-$HWG_BUILD_DIR/hw-sim/hwsim}"
UMOCKDEV_PRELOAD=libumockdev-preload.so.0

vein_sim_start() {
	_args=
	for _s in "$@"; do _args="$_args --vein $_s"; done
	# hwsim runs under the preload too: the uevents it sends for plugging
	# and unplugging are read back through libudev from the testbed's /sys.
	# (exec: $HWSIM_PID must be hwsim itself, for the SIGTERM that stops it)
	# shellcheck disable=SC2086
	(TMPDIR="$GW" exec env LD_PRELOAD="$(vein_preload)" ASAN_OPTIONS="$(vein_asan)" \
		"$HWSIM" $_args ${HWSIM_EXTRA_ARGS:-} --control "$GW/hwsim.ctl" 2>>"$GW/hwsim.log") &
	HWSIM_PID=$!
	i=0
	until [ -S "$GW/hwsim.ctl" ]; do
		i=$((i + 1))
		[ $i -le 200 ] && kill -0 "$HWSIM_PID" 2>/dev/null ||
			{ echo "hwsim did not start" >&2; cat "$GW/hwsim.log" >&2; return 1; }
		sleep 0.05
	done
	UMOCKDEV_DIR=$("$HWSIM" --control "$GW/hwsim.ctl" --send usb-root | sed -n 's/^ok //p')
	[ -d "$UMOCKDEV_DIR" ] || { echo "hwsim gave no USB testbed" >&2; return 1; }
	export UMOCKDEV_DIR
}

vein_sim_stop() {
	[ -n "${HWSIM_PID:-}" ] || return 0
	kill -TERM "$HWSIM_PID" 2>/dev/null && wait "$HWSIM_PID" 2>/dev/null
	HWSIM_PID=
}

vein_preload() { printf '%s' "$UMOCKDEV_PRELOAD${LD_PRELOAD:+:$LD_PRELOAD}"; }
vein_asan() { printf '%s' "${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0"; }

vein_env() {
	LD_PRELOAD="$(vein_preload)" ASAN_OPTIONS="$(vein_asan)" "$@"
}

vein() {
	_reply=$("$HWSIM" --control "$GW/hwsim.ctl" --send "vein $*") || {
		echo "hwsim: vein $* -> $_reply" >&2
		return 1
	}
	printf '%s\n' "${_reply#ok}" | sed 's/^ //'
}
