#!/bin/sh
# test_vein_usb.sh — run test_vein_usb (the driver through libusb) against
# hwsim's terminal on umockdev's simulated bus.
set -u
: "${HWG_SOURCE_DIR:?}" "${HWG_BUILD_DIR:?}"
. "$HWG_SOURCE_DIR/tests/lib/veinenv.sh"
GW=$(mktemp -d /tmp/hwgw-vein.XXXXXX)
trap 'vein_sim_stop; [ -n "${HWG_KEEP:-}" ] || rm -rf "$GW"' EXIT
vein_sim_start PV-SIM-0001 || exit 1
HWSIM_CONTROL="$GW/vein.ctl" vein_env "$HWG_BUILD_DIR/tests/test_vein_usb"
rc=$?
[ $rc -eq 0 ] || tail -n 30 "$GW/vein-sim.log" >&2
exit $rc
