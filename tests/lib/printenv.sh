# tests/lib/printenv.sh — hwsim's certificate printers on umockdev's
# simulated USB bus (the same hwsim and bus as the palm-vein terminals,
# tests/lib/veinenv.sh), for a process that must reach them through libusb.
# Set $GW to a scratch directory, source it, then:
#   printer_sim_start "SERIAL [MODEL]"...   hwsim spooling to $GW/spool
#                          (control socket $GW/vein.ctl), each printer
#                          plugged in; with $VEIN_SERIALS set, those
#                          terminals too.  Sets UMOCKDEV_DIR, PRINT_SPOOL
#   printer CMD...         one "printer ..." control command; prints its data
#   vein_env CMD...        run CMD under umockdev's preload (veinenv.sh)
#   vein_sim_stop          stop hwsim
# A gateway started with $GW_WRAP as vein_setup sets it reaches the
# printers as it reaches the terminals.

. "$HWG_SOURCE_DIR/tests/lib/veinenv.sh"
PRINTER_SERIAL=KM2000417

printer_sim_start() {
	PRINT_SPOOL="$GW/spool"
	mkdir -p "$PRINT_SPOOL" || return 1
	# shellcheck disable=SC2086
	HWSIM_EXTRA_ARGS="${HWSIM_EXTRA_ARGS:-} --spool $PRINT_SPOOL" \
		vein_sim_start ${VEIN_SERIALS:-} || return 1
	for _p in "$@"; do
		# shellcheck disable=SC2086
		printer plug $_p >/dev/null || return 1
	done
	export PRINT_SPOOL
}

printer() {
	_reply=$("$HWSIM" --control "$GW/vein.ctl" --send "printer $*") || {
		echo "hwsim: printer $* -> $_reply" >&2
		return 1
	}
	printf '%s\n' "${_reply#ok}" | sed 's/^ //'
}
