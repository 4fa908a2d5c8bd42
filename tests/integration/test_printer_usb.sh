#!/bin/sh
# test_printer_usb.sh — run test_printer_usb (the printer driver through
# libusb) against hwsim's printer on umockdev's simulated bus.
set -u
: "${HWG_SOURCE_DIR:?}" "${HWG_BUILD_DIR:?}"
. "$HWG_SOURCE_DIR/tests/lib/printenv.sh"
GW=$(mktemp -d /tmp/hwgw-print.XXXXXX)
trap 'vein_sim_stop; [ -n "${HWG_KEEP:-}" ] || rm -rf "$GW"' EXIT
# a palm-vein terminal on the same bus: the printer driver must leave it alone
VEIN_SERIALS=PV-SIM-0001 printer_sim_start "$PRINTER_SERIAL CP-200" || exit 1
HWSIM_CONTROL="$GW/vein.ctl" vein_env "$HWG_BUILD_DIR/tests/test_printer_usb"
rc=$?
[ $rc -eq 0 ] || tail -n 30 "$GW/vein-sim.log" >&2
exit $rc
