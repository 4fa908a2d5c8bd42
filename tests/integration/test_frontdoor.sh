#!/bin/sh
# test_frontdoor.sh — start a real hwgwd with small limits (16 connections,
# a 2 s head and 3 s request deadline, requests expiring 2 s after their
# time) and run test_frontdoor.c against it: the gateway as an attacker
# outside sees it (issue 13).  The dribbling connections come from
# 127.0.0.2 and, on the Unix socket, as uid 65534: so the socket is 0660
# and its folder searchable for the test.
set -eu
. "$HWG_SOURCE_DIR/tests/lib/gwenv.sh"
if [ "$(id -u)" != 0 ]; then
	echo "skip: needs root to connect as another uid" >&2
	exit 77
fi
gw_setup
sed -i -e 's/^\[api\]$/[api]\nmax_age = 2/' \
	-e 's/^\[http\]$/[http]\nmax_connections = 16\nheader_timeout = 2\nrequest_timeout = 3/' \
	-e 's/^mode = 0600$/mode = 0660/' "$GW/hwgwd.conf"
me=$(id -u)
gw_client counter counter "$me"
gw_client auditor auditor "$me"
chmod 0711 "$GW"
gw_start
export GW_ID GW_PORT
# under valgrind the answers are slower, not the gateway's own deadlines
[ -z "${HWG_VALGRIND:-}" ] || export FRONTDOOR_SLACK="${HWG_TIMEOUT_SCALE:-6}"
rc=0
"$HWG_BUILD_DIR/tests/test_frontdoor" || rc=$?
if [ $rc -ne 0 ]; then
	echo "--- hwgwd log" >&2
	tail -n 60 "$GW/hwgwd.log" >&2
fi
gw_stop || rc=1
exit $rc
