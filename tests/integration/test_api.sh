#!/bin/sh
# test_api.sh — start a real hwgwd (SoftHSM2 token, fresh state) with the
# clients test_api.c expects, run it, and stop the gateway cleanly.
set -eu
. "$HWG_SOURCE_DIR/tests/lib/gwenv.sh"
gw_setup
me=$(id -u)
gw_client counter counter "$me"
gw_client auditor auditor "$me"
gw_client maint maintenance "$me"
gw_client uidlocked counter 4000000000
gw_client httponly counter
GW_KEY_ALG=p256 gw_client p256 counter "$me"
"$HWGWCTL" keygen --out "$GW/keys/stranger" >/dev/null   # never registered
gw_start
cat >"$GW/restart" <<R
#!/bin/sh
kill -TERM \$(cat "$GW/state/hwgwd.pid") && while [ -e "$GW/state/hwgwd.pid" ]; do sleep 0.05; done
"$HWGWD" --config "$GW/hwgwd.conf" 2>>"$GW/hwgwd-2.log" &
while ! grep -q event=ready "$GW/hwgwd-2.log" 2>/dev/null; do sleep 0.05; done
R
chmod +x "$GW/restart"
export GW_ID GW_RESTART="$GW/restart"
rc=0
"$HWG_BUILD_DIR/tests/test_api" || rc=$?
# the gateway restarted by the test is stopped through its pid file
if [ -e "$GW/state/hwgwd.pid" ]; then
	kill -TERM "$(cat "$GW/state/hwgwd.pid")" 2>/dev/null || true
	while [ -e "$GW/state/hwgwd.pid" ]; do sleep 0.05; done
fi
GW_PID=
if [ $rc -ne 0 ]; then
	echo "--- hwgwd log" >&2
	cat "$GW/hwgwd.log" "$GW/hwgwd-2.log" >&2 2>/dev/null || true
fi
exit $rc
