#!/bin/sh
# test_city.sh — a city of counters on one register (issue 16): one
# PostgreSQL register and four counters, each its own hwgwd with its own
# hwsim card reader, palm terminal and printer in its own namespaces
# (tests/lib/cityenv.sh, tests/integration/city_counter.sh), running
# visits at once for CITY_SECONDS (40): logins, card reads, identify,
# issuances, a special move-in, and two counters changing the same
# household at every visit.  Then: every issuance printed exactly once,
# issuance numbers unique, no lost update in the register, every audit
# chain intact, and the register's history consistent with what was
# printed.
set -u
. "$HWG_SOURCE_DIR/tests/lib/gwenv.sh"
. "$HWG_SOURCE_DIR/tests/lib/cityenv.sh"
. "$HWG_SOURCE_DIR/tests/lib/sh_test.sh"
if [ "$(id -u)" != 0 ] || ! command -v unshare >/dev/null || ! command -v pcscd >/dev/null; then
	echo "SKIP: the city needs root, unshare and pcscd (make check installs them)"
	exit 77
fi
N_COUNTERS=${CITY_COUNTERS:-4}
city_start
rc=$?
[ $rc = 0 ] || exit $rc
trap 'city_stop' EXIT
# shellcheck disable=SC2154
trap 'exit 143' TERM INT

show_counter() {
	for _f in out.log errors.log visits.log; do
		echo "--- c$1/$_f (last 30 lines)"
		tail -n 30 "$CITY/c$1/$_f" 2>/dev/null
	done
}

ran() {
	city_run "$N_COUNTERS" "${CITY_SECONDS:-40}" || {
		for k in $(seq 1 "$N_COUNTERS"); do show_counter "$k"; done
		return 1
	}
}
check "$N_COUNTERS counters set up in their own namespaces and ran visits at once" ran
echo "# $(city_visits) whole visits on $N_COUNTERS counters, $(city_rate) a second"

# ---- every counter did whole visits, none failed
visited() {
	for k in $(seq 1 "$N_COUNTERS"); do
		_ok=$(grep -c '^visit [0-9]* ok' "$CITY/c$k/visits.log")
		_bad=$(grep -c '^visit [0-9]* failed' "$CITY/c$k/visits.log")
		echo "counter $k: $_ok visits, $_bad failed"
		[ "$_ok" -ge 2 ] && [ "$_bad" = 0 ] && [ -e "$CITY/c$k/done" ] || { show_counter "$k"; return 1; }
	done
}
check "every counter: whole visits (login, card, identify, issue, logout), none failed" visited

# ---- printed exactly once
printed_once() {
	for k in $(seq 1 "$N_COUNTERS"); do
		_d="$CITY/c$k"
		awk -F'|' '$2 == "printed" { print $1 ".pdf" }' "$_d/journal.txt" | sort >"$_d/printed.txt"
		sort "$_d/spool.txt" >"$_d/spool.sorted"
		awk '$1 == "printed" { print $2 ".pdf" }' "$_d/visits.log" | sort >"$_d/told.txt"
		cmp -s "$_d/printed.txt" "$_d/spool.sorted" || { echo "c$k journal vs spool:"; diff "$_d/printed.txt" "$_d/spool.sorted"; return 1; }
		cmp -s "$_d/printed.txt" "$_d/told.txt" || { echo "c$k journal vs clerk:"; diff "$_d/printed.txt" "$_d/told.txt"; return 1; }
		[ "$(awk -F'|' '$2 != "printed"' "$_d/journal.txt" | wc -l)" = 0 ] || { echo "c$k: not all printed"; cat "$_d/journal.txt"; return 1; }
		[ -z "$(awk -F'|' '{ print $4 }' "$_d/journal.txt" | sort | uniq -d)" ] || { echo "c$k: a job name twice"; return 1; }
		[ -z "$(grep -o 'city-counter-[0-9]*-[0-9-]*' "$_d/jobs.txt" | sort | uniq -d)" ] || { echo "c$k: a job printed twice"; cat "$_d/jobs.txt"; return 1; }
		echo "counter $k: $(wc -l <"$_d/printed.txt") printed, each once"
	done
}
check "every issuance in each journal printed exactly once: journal, spool, printer jobs and clerk agree" printed_once

numbers() {
	_all=$(cat "$CITY"/c*/printed.txt | wc -l)
	[ "$_all" -gt 0 ] && [ "$(cat "$CITY"/c*/printed.txt | sort -u | wc -l)" = "$_all" ] || return 1
	for k in $(seq 1 "$N_COUNTERS"); do
		! grep -v "^city-counter-$k-[0-9]\{8\}-[0-9]\{6,\}\.pdf\$" "$CITY/c$k/printed.txt" || return 1
	done
}
check "issuance numbers unique, each in its own gateway's series" numbers

audits() {
	for k in $(seq 1 "$N_COUNTERS"); do
		[ "$(cat "$CITY/c$k/audit.rc")" = 0 ] || { echo "c$k:"; cat "$CITY/c$k/audit.txt"; return 1; }
	done
}
check "every gateway's audit chain verifies after it stopped" audits

# ---- no lost update: 美咲's household, changed by counters 1 and 2 at once
# version: the VERSIONth version of CODE, one line
version() { city_registry show "$1" "$2" | tr '\n' ' '; }
no_lost_update() {
	_ok=$(cat "$CITY"/c[12]/visits.log | grep -c '^household ok')
	_refused=$(cat "$CITY"/c[12]/visits.log | grep -c '^household refused')
	_now=$(city_registry show "$CITY_MOVER" | sed -n 's/.* version=\([0-9]*\) .*/\1/p')
	echo "$_ok changes recorded, $_refused refused; 美咲 now at version $_now"
	[ "$_ok" -gt 0 ] && [ "$_now" = $((_ok + 1)) ] || return 1
	# each version told to a clerk once, each with its own update sequence number
	cat "$CITY"/c[12]/visits.log | awk '$1 == "household" && $2 == "ok" { print $3 }' | sort -n >"$CITY/hh.versions"
	seq 2 "$_now" | cmp -s - "$CITY/hh.versions" || { cat "$CITY/hh.versions"; return 1; }
	[ -z "$(awk '$1 == "household" && $2 == "ok" { print $4 }' "$CITY"/c[12]/visits.log | sort | uniq -d)" ] || return 1
	for v in $(seq 2 "$_now"); do
		version "$CITY_MOVER" "$v" | grep -q 'reason=household_change' || { version "$CITY_MOVER" "$v"; return 1; }
	done
}
if [ "$N_COUNTERS" -ge 2 ]; then
	check "no lost update: 美咲's versions are exactly the changes the two counters were told of" no_lost_update
	echo "# household changes: $(cat "$CITY"/c[12]/visits.log | grep -c '^household ok') recorded," \
		"$(cat "$CITY"/c[12]/visits.log | grep -c '^household refused') refused (a race lost)"
	refusals_neutral() {
		! awk '$1 == "household" && $2 == "refused" && $3 != "not_entitled" && $3 != "logic_check"' \
			"$CITY"/c[12]/visits.log | grep .
	}
	check "a change refused for a race is refused by the register's rules (not_entitled, logic_check)" refusals_neutral
fi

# ---- the register's history and what was printed
# page_has NO TEXT: the printed page of issuance NO (counter K) says TEXT
page_has() { grep -qF -- "$3" "$CITY/c$1/text/$2.txt"; }
history_printed() {
	for k in $(seq 1 "$N_COUNTERS"); do
		while IFS='|' read -r _no _st _subj _job _pages _hh; do
			_t="$CITY/c$k/text/$_no.txt"
			city_registry show "$_subj" >"$CITY/subject.txt" || return 1
			_name=$(sed -n 's/^name=\(.*\) kana=.*/\1/p' "$CITY/subject.txt" | sed 's/　/ /')
			_addr=$(sed -n 's/^address=\(.*\) postcode=.*/\1/p' "$CITY/subject.txt")
			grep -q "^交付番号 $_no\$" "$_t" && grep -q "^氏名 $_name\$" "$_t" &&
				grep -q "^住所 $_addr\$" "$_t" || { echo "c$k $_no ($_subj):"; cat "$_t"; return 1; }
		done <"$CITY/c$k/journal.txt"
	done
}
check "each printed page: its own number, the name and address the register holds for its subject" history_printed
# the household pages (世帯全員) of counter 1: only people who were in the
# Wakaba household; 美咲 on some and not on others as she came and went
household_pages() {
	for _no in $(awk -F'|' '$6 == 1 { print $1 }' "$CITY/c1/journal.txt"); do
		_names=$(sed -n 's/^氏名 //p' "$CITY/c1/text/$_no.txt" | LC_ALL=C sort -u | tr '\n' ' ')
		case $_names in
		"大分 次郎 "* | *東雲*) echo "$_no: $_names"; return 1 ;;
		"若葉 健太 若葉 美咲 若葉 花子 " | "若葉 健太 若葉 花子 ") ;;
		*) echo "$_no: $_names"; return 1 ;;
		esac
	done
	[ -n "$(awk -F'|' '$6 == 1' "$CITY/c1/journal.txt")" ]
}
check "counter 1's household pages list only the Wakaba household's members (美咲 as she came and went)" household_pages

if [ "$N_COUNTERS" -ge 4 ]; then
	moved_in() {
		grep -c '^move-in ok' "$CITY/c4/visits.log" | grep -qx 1 &&
			version "$CITY_JIRO" 1 | grep -q 'reason=special_move_in' &&
			! city_registry show "$CITY_JIRO" 2 >/dev/null 2>&1
	}
	check "one special move-in: 次郎's record version 1 made by it, claimed once" moved_in
	jiro_pages() {
		for _no in $(awk -F'|' '{ print $1 }' "$CITY/c4/journal.txt"); do
			grep -q "^住所 $CITY_JIRO_NEW\$" "$CITY/c4/text/$_no.txt" &&
				grep -q "^前住所 $CITY_JIRO_OLD\$" "$CITY/c4/text/$_no.txt" ||
				{ cat "$CITY/c4/text/$_no.txt"; return 1; }
		done
	}
	check "次郎's pages: the address his move-in recorded, the old city's as previous address" jiro_pages
fi
sh_test_end
