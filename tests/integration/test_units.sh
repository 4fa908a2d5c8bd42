#!/bin/sh
# test_units.sh — the deployment files a city installs are valid and keep
# their promises: the units as `make install` writes them pass
# `systemd-analyze verify` (with the man pages they name), the service's
# `systemd-analyze security` exposure is printed and stays at most
# $MAX_EXPOSURE, the sandbox settings the service promises are all there,
# the socket agrees with hwgwd.conf.example and has no world bits, the
# udev rule gives exactly [vein] usb_ids and printer-class devices to group
# hwgw without uaccess, and the sysusers.d and tmpfiles.d entries make the
# accounts and directories (in a scratch root).  Runs without systemd as
# PID 1; skipped (77) only when systemd-analyze is missing.
set -u
. "$HWG_SOURCE_DIR/tests/lib/sh_test.sh"
: "${HWG_BUILD_DIR:?}"
MAX_EXPOSURE=2.0
if ! command -v systemd-analyze >/dev/null 2>&1; then
	echo "SKIP: systemd-analyze not installed (Debian package systemd, scripts/setup)"
	exit 77
fi
echo "$(systemd-analyze --version | head -n 1)"
tmp=$(mktemp -d /tmp/hwgw-units.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
dist="$HWG_SOURCE_DIR/dist"
example="$HWG_SOURCE_DIR/gateway/hwgwd.conf.example"

# The service as installed, but starting the hwgwd of this build (verify
# checks that ExecStart exists); the same configure step as `make install`.
mkdir -p "$tmp/units" "$tmp/man/man1" "$tmp/man/man8"
cmake -DHWG_IN="$dist/systemd/hwgwd.service.in" -DHWG_OUT="$tmp/units/hwgwd.service" \
	-DHWG_REL_SBINDIR="$HWG_BUILD_DIR/gateway" -DHWG_REL_LIBDIR=lib -DHWG_REL_INCLUDEDIR=include \
	-P "$dist/configure.cmake"
cp "$dist/systemd/hwgwd.socket" "$tmp/units/"
cp "$HWG_SOURCE_DIR/doc/man/hwgwd.8" "$tmp/man/man8/"
cp "$HWG_SOURCE_DIR/doc/man/hwgwctl.1" "$HWG_SOURCE_DIR/doc/man/hwsim.1" "$tmp/man/man1/"
svc="$tmp/units/hwgwd.service"
sock="$tmp/units/hwgwd.socket"

(cd "$tmp/units" && MANPATH="$tmp/man" systemd-analyze verify ./hwgwd.service ./hwgwd.socket) \
	>"$tmp/verify.out" 2>&1
rc=$?
check "systemd-analyze verify passes on hwgwd.service and hwgwd.socket" test $rc -eq 0
check "and says nothing (no warning)" test ! -s "$tmp/verify.out"
sed 's/^/  verify: /' "$tmp/verify.out"

systemd-analyze security --offline=yes "$svc" >"$tmp/security.out" 2>&1
score=$(sed -n 's/.*Overall exposure level for hwgwd.service: \([0-9.]*\).*/\1/p' "$tmp/security.out")
echo "systemd-analyze security --offline=yes hwgwd.service: exposure ${score:-?}"
grep '✗' "$tmp/security.out" | sed 's/^/  /'
check "exposure score computed" test -n "$score"
check "exposure at most $MAX_EXPOSURE" awk -v s="${score:-99}" -v m="$MAX_EXPOSURE" \
	'BEGIN { exit !(s <= m) }'

# what hwgwd.service promises (hwgwd(8), SYSTEMD): each line exactly
for want in 'User=hwgw' 'Group=hwgw' 'CapabilityBoundingSet=' 'AmbientCapabilities=' \
	'NoNewPrivileges=yes' 'ProtectSystem=strict' 'ProtectHome=yes' 'PrivateTmp=yes' \
	'PrivateDevices=no' 'DevicePolicy=closed' 'DeviceAllow=char-usb_device rw' \
	'RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6 AF_NETLINK' 'StateDirectory=hwgw' \
	'StateDirectoryMode=0700' 'RuntimeDirectory=hwgw' 'ConfigurationDirectory=hwgw' \
	'SystemCallFilter=@system-service' 'SystemCallArchitectures=native' \
	'MemoryDenyWriteExecute=yes' 'LockPersonality=yes' 'RestrictRealtime=yes' \
	'RestrictNamespaces=yes' 'ProtectKernelTunables=yes' 'ProtectKernelModules=yes' \
	'ProtectKernelLogs=yes' 'ProtectControlGroups=yes' 'ProtectClock=yes' \
	'ProtectHostname=yes' 'UMask=0077' 'ExecReload=/bin/kill -HUP $MAINPID'; do
	check "hwgwd.service has $want" grep -qxF -- "$want" "$svc"
done
check "hwgwd.service has no PrivateUsers= (SO_PEERCRED uids must stay real)" \
	sh -c "! grep -q '^PrivateUsers=' '$svc'"
check "hwgwd.service runs hwgwd in the foreground with the default config" \
	grep -qx "ExecStart=$HWG_BUILD_DIR/gateway/hwgwd --foreground --config /etc/hwgw/hwgwd.conf" \
	"$svc"

conf_socket=$(sed -n 's/^socket = //p' "$example")
check "hwgwd.socket listens where hwgwd.conf.example's [unix] socket is" \
	grep -qx "ListenStream=$conf_socket" "$sock"
check "hwgwd.socket: owner hwgw, group hwgw-clients, mode 0660 (no world bits)" sh -c \
	"grep -qx SocketUser=hwgw '$sock' && grep -qx SocketGroup=hwgw-clients '$sock' && \
	grep -qx SocketMode=0660 '$sock'"

# 60-hwgw.rules: one line per [vein] usb_ids pair of the example, GROUP hwgw, 0660
rules="$dist/udev/60-hwgw.rules"
ids=$(sed -n 's/^usb_ids = //p' "$example" | tr ',' ' ')
check "hwgwd.conf.example lists usb_ids" test -n "$ids"
for id in $ids; do
	v=${id%%:*} p=${id##*:}
	check "60-hwgw.rules gives $v:$p to group hwgw, mode 0660" grep -qxF \
		"ATTR{idVendor}==\"$v\", ATTR{idProduct}==\"$p\", GROUP=\"hwgw\", MODE=\"0660\"" "$rules"
done
check "60-hwgw.rules gives USB printer-class devices to group hwgw, mode 0660" grep -qxF \
	'ENV{ID_USB_INTERFACES}=="*:0701??:*", GROUP="hwgw", MODE="0660"' "$rules"
check "60-hwgw.rules acts on USB devices only" grep -qxF 'SUBSYSTEM!="usb", GOTO="hwgw_end"' \
	"$rules"
check "60-hwgw.rules gives nothing to the console user (no uaccess)" \
	sh -c "! grep -v '^#' '$rules' | grep -q uaccess"
check "60-hwgw.rules: no rule gives anything but group hwgw" \
	sh -c "! grep -v '^#' '$rules' | grep -E 'GROUP=|OWNER=|MODE=' | grep -vq 'GROUP=\"hwgw\", MODE=\"0660\"'"
if udevadm verify --help >/dev/null 2>&1; then
	check "udevadm verify passes on 60-hwgw.rules" udevadm verify "$rules"
else
	echo "note: no 'udevadm verify' here (udev not installed, or systemd < 254): rules checked by content only"
fi

# sysusers.d and tmpfiles.d in a scratch root, as a package's postinst runs them
root="$tmp/root"
mkdir -p "$root/etc" "$root/usr/lib/sysusers.d" "$root/usr/lib/tmpfiles.d"
cp "$dist/sysusers.d/hwgw.conf" "$root/usr/lib/sysusers.d/"
cp "$dist/tmpfiles.d/hwgw.conf" "$root/usr/lib/tmpfiles.d/"
check "systemd-sysusers creates the accounts" systemd-sysusers --root="$root" hwgw.conf
check "user hwgw, home /var/lib/hwgw, no login shell" \
	grep -Eq '^hwgw:x:[0-9]+:[0-9]+:[^:]*:/var/lib/hwgw:/usr/sbin/nologin$' "$root/etc/passwd"
check "group hwgw-clients, without members" grep -Eq '^hwgw-clients:x:[0-9]+:$' "$root/etc/group"
if [ "$(id -u)" -eq 0 ]; then
	check "systemd-tmpfiles creates the directories" \
		systemd-tmpfiles --root="$root" --create hwgw.conf
	uid=$(sed -n 's/^hwgw:x:\([0-9]*\):.*/\1/p' "$root/etc/passwd")
	check "/run/hwgw: hwgw, 0755 (as RuntimeDirectory wants it)" \
		test "$(stat -c '%u %a' "$root/run/hwgw")" = "$uid 755"
	check "/var/lib/hwgw: hwgw, 0700 (as StateDirectory wants it)" \
		test "$(stat -c '%u %a' "$root/var/lib/hwgw")" = "$uid 700"
else
	echo "note: not root: tmpfiles.d entries not applied (they chown)"
fi
sh_test_end
