#!/bin/sh
# test_install.sh — `make install DESTDIR=D PREFIX=/usr` stages exactly the
# files a city's package holds (listed in the output), the installed
# programs run, the units and the pkg-config file name the prefix given at
# install time (a second install into /opt/hwgw proves it), and an
# application built with nothing but `pkg-config --cflags --libs libhwgw`
# (PKG_CONFIG_PATH into D, PKG_CONFIG_SYSROOT_DIR=D) links against the
# installed libhwgw, which exports only its public API, and runs.
set -u
. "$HWG_SOURCE_DIR/tests/lib/sh_test.sh"
: "${HWG_BUILD_DIR:?}"
tmp=$(mktemp -d /tmp/hwgw-install.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
dest="$tmp/root"

cache() { sed -n "s/^$1:[A-Z]*=//p" "$HWG_BUILD_DIR/CMakeCache.txt"; }
version=$(cache CMAKE_PROJECT_VERSION)
libdir=$(cache CMAKE_INSTALL_LIBDIR)
cc=$(cache CMAKE_C_COMPILER)
# an ASan build's libhwgw needs the sanitizer runtime in the application too
san=''
[ "$(cache HWG_SANITIZE)" = ON ] && san='-fsanitize=address,undefined'

# install PREFIX DESTDIR: the Makefile's target on this build directory (its
# own build type, so that `make build` inside finds nothing to redo)
install_to() {
	env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -s -C "$HWG_SOURCE_DIR" install \
		BUILD="$HWG_BUILD_DIR" BUILD_TYPE="$(cache CMAKE_BUILD_TYPE)" JOBS=2 \
		PREFIX="$1" DESTDIR="$2" >"$tmp/install.log" 2>&1
}

install_to /usr "$dest"
rc=$?
check "make install DESTDIR=... PREFIX=/usr succeeds" test $rc -eq 0
[ $rc -eq 0 ] || cat "$tmp/install.log" >&2

cat >"$tmp/expected" <<EOF
usr/bin/hwgw-counter
usr/bin/hwgw-registry
usr/bin/hwgwctl
usr/bin/hwsim
usr/include/hwgw/hwg_err.h
usr/include/hwgw/hwgw.h
usr/$libdir/libhwgw.so
usr/$libdir/libhwgw.so.0
usr/$libdir/libhwgw.so.$version
usr/$libdir/pkgconfig/libhwgw.pc
usr/lib/systemd/system/hwgwd.service
usr/lib/systemd/system/hwgwd.socket
usr/lib/sysusers.d/hwgw.conf
usr/lib/tmpfiles.d/hwgw.conf
usr/lib/udev/rules.d/60-hwgw.rules
usr/libexec/hwgw/hwgw-keyholder
usr/libexec/hwgw/hwgw-net
usr/libexec/hwgw/hwgw-renderer
usr/sbin/hwgwd
usr/share/doc/hwgw/hwgwd.conf.example
usr/share/man/man1/hwgwctl.1
usr/share/man/man1/hwsim.1
usr/share/man/man8/hwgwd.8
EOF
(cd "$dest" 2>/dev/null && find . ! -type d | sed 's|^\./||' | LC_ALL=C sort) >"$tmp/installed"
echo "installed under $dest:"
sed 's/^/  /' "$tmp/installed"
check "exactly the expected files are installed" diff -u "$tmp/expected" "$tmp/installed"
diff -u "$tmp/expected" "$tmp/installed" >&2

u="$dest/usr"
check "installed hwgwd runs" sh -c "'$u/sbin/hwgwd' --version | grep -qx 'hwgwd $version'"
check "installed hwgwctl runs" sh -c "'$u/bin/hwgwctl' --version | grep -qx 'hwgwctl $version'"
check "installed hwsim is executable" test -x "$u/bin/hwsim"
check "the unit starts the installed hwgwd" \
	grep -qx 'ExecStart=/usr/sbin/hwgwd --foreground --config /etc/hwgw/hwgwd.conf' \
	"$u/lib/systemd/system/hwgwd.service"
check "no @placeholder@ left in installed text files" sh -c \
	"! grep -l '@[A-Z_]*@' '$u/lib/systemd/system/'* '$u/$libdir/pkgconfig/libhwgw.pc'"
check "libhwgw.so.0 is the SONAME" sh -c \
	"readelf -d '$u/$libdir/libhwgw.so.$version' | grep -q 'SONAME.*\[libhwgw.so.0\]'"
nm -D --defined-only "$u/$libdir/libhwgw.so.$version" | awk '$2 == "T" { print $3 }' |
	sed 's/@.*//' >"$tmp/exports"
check "libhwgw exports its API" grep -qx hwgw_request_build "$tmp/exports"
check "libhwgw exports nothing of hwgw's inside (hwg_buf_*, hwg_cose_*, ...)" \
	sh -c "! grep -Ev '^(hwgw_|hwg_err_|hwg_error_)' '$tmp/exports'"

# pkg-config as an integrator's build would run it against the staged tree
pc() {
	PKG_CONFIG_PATH="$u/$libdir/pkgconfig" PKG_CONFIG_SYSROOT_DIR="$dest" pkg-config "$@"
}
check "pkg-config finds libhwgw $version" sh -c "test \"\$(PKG_CONFIG_PATH='$u/$libdir/pkgconfig' \
	PKG_CONFIG_SYSROOT_DIR='$dest' pkg-config --modversion libhwgw)\" = '$version'"
flags=$(pc --cflags --libs libhwgw)
echo "pkg-config --cflags --libs libhwgw: $flags"
check "its flags point into the installed tree" sh -c "echo '$flags' | grep -q -- '-I$u/include/hwgw' \
	&& echo '$flags' | grep -q -- '-L$u/$libdir'"
# shellcheck disable=SC2086
check "an application builds with only those flags" "$cc" -std=c17 -Wall -Wextra -Werror $san \
	-o "$tmp/deploy_probe" "$HWG_SOURCE_DIR/tests/integration/deploy_probe.c" $flags
check "it runs against the installed libhwgw" sh -c "LD_LIBRARY_PATH='$u/$libdir' \
	'$tmp/deploy_probe' '$tmp/no-gateway.sock' >'$tmp/probe.out' 2>&1"
cat "$tmp/probe.out"
check "and loads that libhwgw, not the build tree's" sh -c "LD_LIBRARY_PATH='$u/$libdir' \
	ldd '$tmp/deploy_probe' | grep -q 'libhwgw.so.0 => $u/$libdir/libhwgw.so.0'"

# the prefix is taken at install time, whatever the build was configured with
check "make install PREFIX=/opt/hwgw succeeds" install_to /opt/hwgw "$tmp/opt"
check "that unit starts /opt/hwgw/sbin/hwgwd" grep -q '^ExecStart=/opt/hwgw/sbin/hwgwd ' \
	"$tmp/opt/opt/hwgw/lib/systemd/system/hwgwd.service"
check "that libhwgw.pc has prefix=/opt/hwgw" grep -qx 'prefix=/opt/hwgw' \
	"$tmp/opt/opt/hwgw/$libdir/pkgconfig/libhwgw.pc"
sh_test_end
