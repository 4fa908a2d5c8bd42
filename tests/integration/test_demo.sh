#!/bin/sh
# test_demo.sh — `make demo` as a new city IT division would run it
# (scripts/demo on the test's build tree): it must end with
# `DEMO OK <pdf> <png>`, walk the visit's six steps on screen, and leave
# a certificate a person can read: its PNG's QR code decoded (zbarimg) and
# accepted by `hwgwctl cert verify` with the gateway's seal key (and
# refused once one character is changed), and the PDF's text (pdftotext)
# carrying the resident's fields and the certification sentence, not her
# My Number.  The demo keeps its working folder; this test removes it.
set -u
. "$HWG_SOURCE_DIR/tests/lib/sh_test.sh"
if [ "$(id -u)" != 0 ] || ! command -v unshare >/dev/null || ! command -v pcscd >/dev/null ||
	! command -v zbarimg >/dev/null || ! command -v pdftotext >/dev/null; then
	echo "skipped: the demo needs root, unshare, pcscd, zbarimg and pdftotext"
	exit 77
fi
HWGWCTL="$HWG_BUILD_DIR/client/hwgwctl"
out=$(mktemp -d "${TMPDIR:-/tmp}/hwgw-demo-test.XXXXXX") || exit 1
DEMO_DIR=
cleanup() {
	if [ "$SH_FAILED" -eq 0 ] && [ -n "$DEMO_DIR" ]; then
		rm -rf "$DEMO_DIR"
	elif [ -n "$DEMO_DIR" ]; then
		echo "# the demo's folder is kept: $DEMO_DIR"
	fi
	rm -rf "$out"
}
trap cleanup EXIT

demo_runs() {
	"$HWG_SOURCE_DIR/scripts/demo" "$HWG_BUILD_DIR" >"$out/demo.log" 2>&1
	_rc=$?
	DEMO_DIR=$(sed -n 's/^demo took .* state kept in //p' "$out/demo.log")
	[ $_rc -eq 0 ] || { tail -n 40 "$out/demo.log"; return 1; }
}
check "scripts/demo runs to its end" demo_runs

demo_ok_last() {
	last=$(tail -n 1 "$out/demo.log")
	PDF=$(echo "$last" | awk '$1 == "DEMO" && $2 == "OK" && NF == 4 { print $3 }')
	PNG=$(echo "$last" | awk '$1 == "DEMO" && $2 == "OK" && NF == 4 { print $4 }')
	echo "last line: $last"
	[ -n "$PDF" ] && [ -s "$PDF" ] && [ -s "$PNG" ]
}
check "its last line is DEMO OK <pdf> <png>, both files there" demo_ok_last
PDF=${PDF:-/nonexistent.pdf}
PNG=${PNG:-/nonexistent.png}

steps_shown() {
	for n in 1 2 3 4 5 6; do
		grep -q "^== $n\. " "$out/demo.log" || { echo "step $n not shown"; return 1; }
	done
}
check "the visit's six steps are shown on screen" steps_shown

# The PNG: an A4 page at 100 dpi (210 x 297 mm: 827 x 1170 pixels), its QR
# code readable.  The size from the IHDR chunk: width, height big-endian.
png_page() {
	_wh=$(od -An -tu1 -j16 -N8 "$PNG" |
		awk '{ print $1 * 16777216 + $2 * 65536 + $3 * 256 + $4, $5 * 16777216 + $6 * 65536 + $7 * 256 + $8 }')
	echo "size: $_wh"
	case $_wh in "82"[67]" 11"[67][0-9]) ;; *) return 1 ;; esac
}
check "the PNG is page 1 at A4, 100 dpi" png_page
qr_read() {
	CODE=$(zbarimg --raw -q "$PNG" 2>/dev/null | head -n 1)
	echo "code: $CODE"
	case $CODE in HWC1:?*) ;; *) return 1 ;; esac
}
check "its QR code decodes (zbarimg) to a verification code" qr_read
CODE=${CODE:-}
SEAL_KEY=${DEMO_DIR:-/nonexistent}/hsm/gateway-seal.pub.pem
NUMBER=$(basename "$PDF" .pdf)
code_verifies() {
	"$HWGWCTL" cert verify --code "$CODE" --key "$SEAL_KEY" >"$out/verify" 2>&1
	_rc=$?
	cat "$out/verify"
	[ $_rc -eq 0 ] && grep -q -- "$NUMBER" "$out/verify"
}
check "hwgwctl cert verify accepts it with the seal key, naming issuance $NUMBER" code_verifies
code_tampered() {
	# one character of the base45 text changed: the seal no longer holds
	_c=$(echo "$CODE" | cut -c 20)
	case $_c in 0) _n=1 ;; *) _n=0 ;; esac
	_bad=$(echo "$CODE" | sed "s/^\(.\{19\}\)./\1$_n/")
	[ "$_bad" != "$CODE" ] || return 1
	! "$HWGWCTL" cert verify --code "$_bad" --key "$SEAL_KEY"
}
check "and refuses it with one character changed" code_tampered

# The PDF: what a clerk hands over.
pdftotext "$PDF" "$out/page.txt" 2>/dev/null
text_has() {
	for want in "住民票の写し" "交付番号 $NUMBER" "若葉" "花子" "ワカバ" "1985年4月1日" \
		"東雲県若葉市本町１丁目２番３号" "この写しは、住民票の原本と相違ないことを証明する。"; do
		grep -qF -- "$want" "$out/page.txt" || { echo "missing: $want"; return 1; }
	done
}
check "the PDF's text has the title, the issuance number, her fields and the certification" text_has
no_my_number() {
	! grep -q '537686677188\|5376 8667 7188' "$out/page.txt"
}
check "and not her My Number (not asked for)" no_my_number
chain_checked() {
	grep -Eq '^audit log verified: [0-9]+ records, [1-9][0-9]* signed checkpoints' "$out/demo.log"
}
check "the demo verified the audit chain, with signed checkpoints" chain_checked

sh_test_end
