#!/bin/sh
# tests/layout/test_layout.sh — the layout of the tree holds (gateway/README.md):
# folders include only what their process may touch (check_includes.sh),
# and the built processes link and map only what they may: the net
# process (hwgw-net) has no libpcsclite, libusb, SQLite or PKCS#11 module
# in its DT_NEEDED or its address space, and the privileged process
# (hwgwd) no PKCS#11 module while the keyholder (hwgw-keyholder) holds it;
# the renderer (hwgw-renderer) links the layout engines and none of those,
# and hwgwd no layout engine.
: "${HWG_SOURCE_DIR:?}" "${HWG_BUILD_DIR:?}"
. "$HWG_SOURCE_DIR/tests/lib/sh_test.sh"
. "$HWG_SOURCE_DIR/tests/lib/gwenv.sh"

NET="$HWG_BUILD_DIR/gateway/hwgw-net"
# (libp11-kit is there through libmicrohttpd's GnuTLS, which loads no
# PKCS#11 module for a plain-HTTP daemon; the modules themselves are named)
FORBIDDEN='libpcsclite|libusb|libsqlite3|softhsm|opensc-pkcs11'

check "every folder includes only what its process may touch" \
	sh "$HWG_SOURCE_DIR/tests/layout/check_includes.sh" "$HWG_SOURCE_DIR"

# The rules can fail: a copy of the tree with one forbidden include each.
copy=$(mktemp -d /tmp/hwgw-layout.XXXXXX)
trap 'rm -rf "$copy"; gw_cleanup' EXIT
for d in common crypto drivers gateway client hw-sim registry; do cp -r "$HWG_SOURCE_DIR/$d" "$copy/"; done
refused() { # refused FILE INCLUDE: the checker names FILE once INCLUDE is added to it
	cp "$copy/$1" "$copy/$1.orig"
	printf '#include %s\n' "$2" >>"$copy/$1"
	out=$(sh "$HWG_SOURCE_DIR/tests/layout/check_includes.sh" "$copy")
	rc=$?
	mv "$copy/$1.orig" "$copy/$1"
	[ $rc -ne 0 ] && echo "$out" | grep -q "^$1 includes"
}
check "the net process may not include the store" refused gateway/net/hwg_unix.c '"hwg_store.h"'
check "the net process may not include a driver" refused gateway/net/hwg_http.c '"hwg_pcsc.h"'
check "the net process may not include SQLite" refused gateway/net/hwg_frame.c '<sqlite3.h>'
check "the net process may not include priv internals" refused gateway/net/hwgw_net.c '"hwg_netchild.h"'
check "a driver may not include the gateway" refused drivers/card/hwg_pcsc.c '"hwg_core.h"'
check "shared code may not include the store" refused gateway/shared/hwg_verify.c '"hwg_audit.h"'
check "a handler may not include priv internals" refused gateway/ops/hwg_ops.c '"hwg_netchild.h"'
check "the register may not include the gateway's store" refused registry/reg_issue.c '"hwg_store.h"'
check "the register may not include gateway/shared beyond hwg_certdoc.h" refused registry/reg_issue.c '"hwg_verify.h"'
check "the register may not include a device driver" refused registry/reg_store.c '"hwg_pcsc.h"'
check "nor the printer's" refused registry/reg_issue.c '"hwg_printer.h"'
check "the renderer may not include the store" refused gateway/renderer/hwg_render.c '"hwg_store.h"'
check "the renderer may not include the keyholder" refused gateway/renderer/hwg_renderer.c '"hwg_keyholder.h"'
check "the renderer may not include priv internals" refused gateway/renderer/hwgw_renderer.c '"hwg_core.h"'
check "the renderer may not include a handler" refused gateway/renderer/hwg_rd_proto.c '"hwg_ops.h"'
check "the renderer may not include a driver" refused gateway/renderer/hwg_gaiji.c '"hwg_pcsc.h"'
check "the renderer may not include SQLite" refused gateway/renderer/hwg_rd_sandbox.c '<sqlite3.h>'
check "the privileged process may not include a layout engine" refused gateway/priv/hwg_core.c '<cairo.h>'
check "a handler may not include pango" refused gateway/ops/hwg_ops.c '<pango/pangocairo.h>'

needed() { readelf -d "$1" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'; }
check "hwgwd's DT_NEEDED is read (it links libsqlite3)" sh -c "readelf -d '$HWG_BUILD_DIR/gateway/hwgwd' | grep -q 'NEEDED.*libsqlite3'"
check "hwgw-net links none of libpcsclite, libusb, SQLite, a PKCS#11 module" \
	sh -c "! readelf -d '$NET' | grep NEEDED | grep -Eq '$FORBIDDEN'"
check "hwgw-net links libmicrohttpd and libseccomp" \
	sh -c "readelf -d '$NET' | grep -q 'NEEDED.*libmicrohttpd' && readelf -d '$NET' | grep -q 'NEEDED.*libseccomp'"
echo "# hwgw-net needs: $(needed "$NET" | tr '\n' ' ')"
RENDERER="$HWG_BUILD_DIR/gateway/hwgw-renderer"
check "hwgw-renderer links none of libpcsclite, libusb, SQLite, a PKCS#11 module, p11-kit, libmicrohttpd" \
	sh -c "! readelf -d '$RENDERER' | grep NEEDED | grep -Eq '$FORBIDDEN|p11-kit|microhttpd'"
check "hwgw-renderer links cairo, pango, libqrencode and libseccomp" \
	sh -c "for l in libcairo libpangocairo libqrencode libseccomp; do readelf -d '$RENDERER' | grep -q \"NEEDED.*\$l\" || exit 1; done"
check "hwgwd links no layout engine (cairo, pango, fontconfig, libqrencode)" \
	sh -c "! readelf -d '$HWG_BUILD_DIR/gateway/hwgwd' | grep NEEDED | grep -Eq 'cairo|pango|fontconfig|qrencode'"
echo "# hwgw-renderer needs: $(needed "$RENDERER" | tr '\n' ' ')"

gw_setup && gw_start
net_pid() { sed -n 's/.*event=net.ready pid=\([0-9]*\).*/\1/p' "$GW/hwgwd.log" | tail -n 1; }
i=0
while [ -z "$(net_pid)" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
NP=$(net_pid)
check "the net process is running" kill -0 "$NP"
check "the net process runs hwgw-net" sh -c "readlink /proc/$NP/exe | grep -q '/hwgw-net\$'"
check "the net process maps none of libpcsclite, libusb, SQLite, a PKCS#11 module" \
	sh -c "! grep -E '$FORBIDDEN' /proc/$NP/maps"
check "the privileged process maps SQLite (the check reads maps)" grep -q libsqlite3 "/proc/$GW_PID/maps"
KP=$(sed -n 's/.*keyholder.ready pid=\([0-9]*\).*/\1/p' "$GW/hwgwd.log" | tail -n 1)
[ -n "$KP" ] || KP=$(pgrep -P "$GW_PID" -x hwgw-keyholder | head -n 1)
check "the keyholder is running" kill -0 "$KP"
check "the keyholder maps the PKCS#11 module" grep -q libsofthsm2 "/proc/$KP/maps"
check "the privileged process maps no PKCS#11 module while the keyholder runs" \
	sh -c "! grep -Eq 'softhsm|opensc-pkcs11' /proc/$GW_PID/maps"
check "the privileged process links no PKCS#11 module, libmicrohttpd or libseccomp" \
	sh -c "! readelf -d '$HWG_BUILD_DIR/gateway/hwgwd' | grep NEEDED | grep -Eq 'softhsm|microhttpd|seccomp'"
gw_stop
sh_test_end
