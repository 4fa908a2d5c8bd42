#!/bin/sh
# test_man.sh — the man pages in doc/man format without a single groff
# warning (-ww) and through man(1) without warnings, have the sections a
# reader looks for, and keep up with the programs: every long option a
# program's own usage names is in its page, and hwgwd.8 lists every
# section of hwgwd.conf.example.  Skipped (77) without groff.
set -u
. "$HWG_SOURCE_DIR/tests/lib/sh_test.sh"
: "${HWG_BUILD_DIR:?}"
if ! command -v groff >/dev/null 2>&1; then
	echo "SKIP: groff not installed (Debian package groff-base, scripts/setup)"
	exit 77
fi
man="$HWG_SOURCE_DIR/doc/man"
tmp=$(mktemp -d /tmp/hwgw-man.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

for page in hwgwd.8 hwgwctl.1 hwsim.1; do
	f="$man/$page"
	groff -man -Tutf8 -ww -z "$f" >"$tmp/$page.warn" 2>&1
	rc=$?
	check "$page: groff -man -ww formats it with no warning" \
		sh -c "test $rc -eq 0 && test ! -s '$tmp/$page.warn'"
	cat "$tmp/$page.warn"
	if command -v man >/dev/null 2>&1; then
		MANWIDTH=80 man --warnings -l "$f" >"$tmp/$page.txt" 2>"$tmp/$page.manwarn"
		check "$page: man -l shows it with no warning" test ! -s "$tmp/$page.manwarn"
		cat "$tmp/$page.manwarn"
	else
		groff -man -Tutf8 "$f" 2>/dev/null | col -b >"$tmp/$page.txt"
	fi
	for s in NAME SYNOPSIS DESCRIPTION "EXIT STATUS" ENVIRONMENT FILES EXAMPLES "SEE ALSO"; do
		check "$page has $s" grep -q "^\\.SH $s\$" "$f"
	done
done
for s in OPTIONS CONFIGURATION SIGNALS "SOCKET ACTIVATION"; do
	check "hwgwd.8 has $s" grep -q "^\\.SH $s\$" "$man/hwgwd.8"
done
check "hwgwctl.1 has COMMANDS" grep -q '^\.SH COMMANDS$' "$man/hwgwctl.1"
check "hwsim.1 has OPTIONS and CONTROL COMMANDS" sh -c \
	"grep -q '^\.SH OPTIONS$' '$man/hwsim.1' && grep -q '^\.SH CONTROL COMMANDS$' '$man/hwsim.1'"

# options_in PAGE USAGE-TEXT-FILE: each --option of the usage is in the page's
# source (read with \- as -, since formatting may hyphenate a long option)
options_in() {
	sed 's/\\-/-/g' "$man/$1" >"$tmp/$1.src"
	for o in $(grep -o -- '--[a-z][a-z-]*' "$2" | sort -u); do
		grep -q -- "$o" "$tmp/$1.src" || { echo "  $1 lacks $o" >&2; return 1; }
	done
}
"$HWG_BUILD_DIR/gateway/hwgwd" --help >"$tmp/hwgwd.usage" 2>&1
check "hwgwd.8 names every option of hwgwd --help" options_in hwgwd.8 "$tmp/hwgwd.usage"
"$HWG_BUILD_DIR/client/hwgwctl" --help >"$tmp/hwgwctl.usage" 2>&1
check "hwgwctl.1 names every option of hwgwctl --help" options_in hwgwctl.1 "$tmp/hwgwctl.usage"
"$HWG_BUILD_DIR/hw-sim/hwsim" >"$tmp/hwsim.usage" 2>&1
check "hwsim.1 names every option of hwsim's usage" options_in hwsim.1 "$tmp/hwsim.usage"
for c in keygen call client audit cert; do
	check "hwgwctl.1 describes the $c command" grep -q "^\\.SS $c\$" "$man/hwgwctl.1"
done

for sec in $(sed -n 's/^\[\([a-z]*\)\]$/\1/p' "$HWG_SOURCE_DIR/gateway/hwgwd.conf.example"); do
	check "hwgwd.8 lists the [$sec] section" grep -qF "[$sec]" "$tmp/hwgwd.8.txt"
done
check "hwgwd.8 points to hwgwd.conf.example for every key" grep -q 'hwgwd.conf.example' \
	"$tmp/hwgwd.8.txt"
sh_test_end
