#!/bin/sh
# city_counter.sh K — counter K of the city (tests/lib/cityenv.sh), run by
# city_run in its own mount and network namespaces: a whole counter of
# visitenv.sh (gateway city-counter-K) on the shared PostgreSQL register,
# then visits for CITY_SECONDS after $CITY/go appears (and at least
# CITY_MIN_VISITS whole ones, up to four times as long).  What it leaves
# in $CITY/cK/ for the test to judge:
#   ready          set up (the test waits for every counter's)
#   end            when its last visit ended (seconds since the epoch)
#   visits.log     "visit N ok|failed", "printed NO SUBJECT", "issue_failed RC",
#                  "household ok VERSION SEQ" / "household refused CODE",
#                  "move-in ok|refused ..."
#   journal.txt    the gateway's journal after it stopped:
#                  issuance_no|state|subject|job_name|pages_confirmed|household
#   spool.txt      the PDFs the printer spooled; text/NO.txt each one's text
#   jobs.txt       the printer's job list
#   audit.txt, audit.rc   hwgwctl audit verify after the gateway stopped
#   done           everything above written
# Counter 1 holds 花子's card, 2 健太's, 3 三郎's, 4 次郎's (his first
# visit is his special move-in, after which his card carries the new
# address).  Counters 1 and 2 also change 美咲's
# household at each visit, both on the same household at once.
set -u
K=$1
. "$HWG_SOURCE_DIR/tests/lib/gwenv.sh"
. "$HWG_SOURCE_DIR/tests/lib/visitenv.sh"
. "$HWG_SOURCE_DIR/tests/lib/cityenv.sh"
OUT="$CITY/c$K"
GW_ID=city-counter-$K

city_cards() {
	case $K in
	1) CARD=hanako CARD_NAME="若葉　花子" SUBJECT=$CITY_HEAD
	   visit_card hanako "$CARD_NAME" "$CITY_ADDRESS" 19850401 2 537686677188 ;;
	2) CARD=kenta CARD_NAME="若葉　健太" SUBJECT=$CITY_CHILD
	   visit_card kenta "$CARD_NAME" "$CITY_ADDRESS" 20100615 1 400000000017 ;;
	3) CARD=saburo CARD_NAME="東雲　三郎" SUBJECT=$CITY_SABURO
	   visit_card saburo "$CARD_NAME" "東雲県若葉市本町３丁目１番１号" 19721123 1 400000000033 ;;
	*) CARD=jiro CARD_NAME="大分　次郎" SUBJECT=$CITY_JIRO
	   visit_card jiro "$CARD_NAME" "$CITY_JIRO_OLD" 19900203 1 123456789018
	   visit_card jiro-new "$CARD_NAME" "$CITY_JIRO_NEW" 19900203 1 123456789018 ;;
	esac
}

city_counter_setup() {
	card_pki
	gw_setup || return 1
	trap visit_cleanup EXIT
	trap 'exit 143' TERM
	ip link set lo up
	mkdir -m 0700 -p "$GW/sessions"
	visit_sim_start && visit_gateway_conf || return 1
	cp "$CITY/mn.key" "$GW/mn.key" && chmod 600 "$GW/mn.key"
	city_cards
	for c in admin:admin admin2:admin counter01:issuance registry:registry; do
		gw_client "${c%%:*}" "${c#*:}" "$(id -u)" || return 1
	done
	gw_start && operator_bootstrap && visit_enrol tanaka.h issuance || return 1
	visit_counter_conf
	sed -i "s|^db = .*|db = $PG_URI|" "$GW/counter.conf"
	printf '%s\n' "$VISIT_PIN" >"$GW/pin" && chmod 600 "$GW/pin"
}

# step NAME ARGS...: hwgw-counter --json; its output in $GW/NAME.json
step() {
	_s=$1
	shift
	counter --json "$@" >"$GW/$_s.json" 2>"$GW/$_s.err"
}

json_field() {
	sed -n "s/^ *\"$2\": \"\{0,1\}\([^\",]*\)\"\{0,1\},\{0,1\}\$/\1/p" "$GW/$1.json" | head -n 1
}

# 美咲 leaves the Wakaba household for a new one, or comes back to it:
# whichever the register says is a change now
change_household() {
	_hh=$(city_registry show "$CITY_MOVER" | sed -n 's/.* household=\([^ ]*\) relation=.*/\1/p')
	_home=$(city_registry show "$CITY_HEAD" | sed -n 's/.* household=\([^ ]*\) relation=.*/\1/p')
	if [ "$_hh" = "$_home" ]; then
		step household household --subject "$CITY_MOVER" --household new --relation 世帯主
	else
		step household household --subject "$CITY_MOVER" --household "$_home" --relation 子
	fi
	_rc=$?
	if [ $_rc = 0 ]; then
		echo "household ok $(json_field household version) $(json_field household seq)"
	else
		echo "household refused $(json_field household code) rc=$_rc"
	fi
}

move_in() {
	if step movein move-in --address "$CITY_JIRO_NEW" --postcode 9990002 --city-code 492019 \
		--pin-file "$GW/pin"; then
		echo "move-in ok $(json_field movein resident_code) $(json_field movein version)"
		MOVED=1
		# the card's surface rewritten with the new address (券面事項の変更)
		CARD=jiro-new
		visit_remove && visit_insert "$CARD"
	else
		echo "move-in refused $(json_field movein code)"
		return 1
	fi
}

issue() {
	_hh=
	[ "$K" != 1 ] || [ $((N % 2)) = 0 ] || _hh=--household
	if step issue issue juminhyo --requester "$CARD_NAME" --relation self $_hh; then
		echo "printed $(json_field issue issuance_no) $SUBJECT"
	else
		echo "issue_failed $? $(json_field issue code)"
		return 1
	fi
}

visit() {
	palm tanaka.h && step login login && visit_insert "$CARD" && step card card || return 1
	if [ "$K" -ge 4 ] && [ -z "${MOVED:-}" ]; then
		move_in || return 1
	fi
	step identify identify --pin-file "$GW/pin" && issue || return 1
	if [ "$K" -le 2 ]; then change_household; fi
	step logout logout && visit_remove
}

# more visits? CITY_SECONDS since go, and at least CITY_MIN_VISITS (3)
# whole ones where the machine is slow (a sanitizer build), up to four
# times as long
more() {
	_t=$(($(date +%s) - _start))
	[ "$_t" -lt "$CITY_SECONDS" ] ||
		{ [ "$(grep -c '^visit [0-9]* ok' "$OUT/visits.log")" -lt "${CITY_MIN_VISITS:-3}" ] &&
			[ "$_t" -lt $((CITY_SECONDS * 4)) ]; }
}

visits() {
	_start=$(cut -d. -f1 "$CITY/go")
	# an empty start would count as 1970 and end the visits before the first
	case $_start in '' | *[!0-9]*) echo "no start time in $CITY/go" >&2; return 1 ;; esac
	N=0
	: >"$OUT/visits.log"
	while more; do
		N=$((N + 1))
		if visit >>"$OUT/visits.log"; then
			echo "visit $N ok" >>"$OUT/visits.log"
		else
			echo "visit $N failed" >>"$OUT/visits.log"
			tail -n +1 "$GW"/*.json "$GW"/*.err >>"$OUT/errors.log" 2>/dev/null
			counter logout >/dev/null 2>&1
			visit_remove >/dev/null 2>&1
		fi
	done
}

results() {
	printer jobs KM2000417 >"$OUT/jobs.txt"
	gw_stop
	sqlite3 -readonly "$GW/state/hwgw.db" "SELECT issuance_no, state, subject, job_name,
		pages_confirmed, household FROM issuances ORDER BY seq" >"$OUT/journal.txt"
	"$HWGWCTL" audit verify --config "$GW/hwgwd.conf" >"$OUT/audit.txt" 2>&1
	echo $? >"$OUT/audit.rc"
	mkdir -p "$OUT/text"
	for _pdf in "$PRINT_SPOOL"/*; do
		[ -e "$_pdf" ] || continue
		basename "$_pdf" >>"$OUT/spool.txt"
		pdftotext -q -raw -enc UTF-8 "$_pdf" "$OUT/text/$(basename "$_pdf" .pdf).txt"
	done
	touch "$OUT/spool.txt"
}

city_counter_setup || { echo "counter $K: setup failed" >&2; exit 1; }
touch "$OUT/ready"
until [ -s "$CITY/go" ]; do sleep 0.05; done
visits || exit 1
date +%s.%N >"$OUT/end"
results
touch "$OUT/done"
