#!/bin/sh
# test_http.sh — the HTTP transport's unsigned surface and its limits:
# health, Prometheus metrics, CORS only for allow-listed origins, the
# content type, unknown paths and methods.
set -u
. "$HWG_SOURCE_DIR/tests/lib/gwenv.sh"
. "$HWG_SOURCE_DIR/tests/lib/sh_test.sh"
gw_setup || exit 1
gw_client counter counter "$(id -u)"
gw_start || exit 1
u="$GW_URL"
status() { curl -s -o "$GW/body" -w '%{http_code}' "$@"; }

check "health answers 200" test "$(status "$u/v1/health")" = 200
check "health body" contains "$GW/body" '"status":"ok"'
check "signed call over HTTP" gw_call counter gw.info --url "$u"
check "metrics answer 200" test "$(status "$u/metrics")" = 200
check "metrics count the call by operation and result" \
	contains "$GW/body" 'hwgw_requests_total\{op="gw.info",result="ok"\} [1-9]'
check "metrics have a latency histogram" contains "$GW/body" 'hwgw_request_duration_seconds_bucket\{le="\+Inf"\}'
check "preflight from an allowed origin" test "$(status -X OPTIONS -H 'Origin: http://localhost:8080' \
	-H 'Access-Control-Request-Method: POST' -D "$GW/hdr" "$u/v1/gw.info")" = 204
check "preflight names the origin" contains "$GW/hdr" '^Access-Control-Allow-Origin: http://localhost:8080'
check "preflight from another origin refused" test "$(status -X OPTIONS -H 'Origin: http://evil.example' \
	-D "$GW/hdr" "$u/v1/gw.info")" = 403
check "refused preflight has no CORS header" sh -c "! grep -qi '^Access-Control-Allow-Origin' '$GW/hdr'"
check "POST from another origin refused 403" test "$(status -X POST -H 'Origin: http://evil.example' \
	-H 'Content-Type: application/cose' --data-binary x "$u/v1/gw.info")" = 403
check "origin refusal audited" sh -c "sqlite3 '$GW/state/hwgw.db' \
	\"SELECT result FROM audit ORDER BY seq DESC LIMIT 1\" | grep -qx origin_not_allowed"
check "wrong content type is 415" test "$(status -X POST -H 'Content-Type: application/json' \
	--data-binary '{}' "$u/v1/gw.info")" = 415
check "garbage body is 400 with a signed body" test "$(status -X POST \
	-H 'Content-Type: application/cose' --data-binary 'garbage' "$u/v1/gw.info")" = 400
check "signed body starts with COSE_Sign1 tag 18" sh -c "head -c1 '$GW/body' | od -An -tx1 | grep -q d2"
check "unknown path is 404" test "$(status "$u/v2/anything")" = 404
check "PUT is 405" test "$(status -X PUT --data-binary x "$u/v1/gw.info")" = 405
check "over-limit body is 413" sh -c "head -c 70000 /dev/zero > '$GW/big' && test \
	\$(curl -s -o /dev/null -w '%{http_code}' -X POST -H 'Content-Type: application/cose' \
	--data-binary @'$GW/big' '$u/v1/gw.info') = 413"
gw_stop
check "clean stop" test "$GW_STATUS" -eq 0
sh_test_end
