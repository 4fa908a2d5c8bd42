/*
 * counter_match.c — the card's four facts against the register: a
 * five-fact search with the name, address, birth date and sex the card
 * holds, then each fact compared whole with the one record found (the
 * search takes the address as a prefix).  No match, or more than one, is
 * said in words and nothing is shown.  When the card showed its My
 * Number, it must be the record's too.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "counter_match.h"
#include "hwg_secret.h"

int
ctr_card_date(const char *card, char out[11])
{
	for (int i = 0; i < 8; i++)
		if (!isdigit((unsigned char)card[i]))
			return -1;
	if (card[8] != '\0')
		return -1;
	snprintf(out, 11, "%.4s-%.2s-%.2s", card, card + 4, card + 6);
	return 0;
}

struct facts {
	char name[192], address[256], birth[11], sex[4], mn[16];
};

static int
facts_of(const cbor_item_t *info, struct facts *f)
{
	char card_birth[16];

	ctr_text(info, "name", f->name, sizeof(f->name));
	ctr_text(info, "address", f->address, sizeof(f->address));
	ctr_text(info, "sex", f->sex, sizeof(f->sex));
	ctr_text(info, "mynumber", f->mn, sizeof(f->mn));
	ctr_text(info, "birth", card_birth, sizeof(card_birth));
	return f->name[0] == '\0' || f->address[0] == '\0' ||
	               ctr_card_date(card_birth, f->birth) != 0
	           ? -1
	           : 0;
}

static int
no_match(struct ctr *c, const char *message, const char *action)
{
	struct ctr_fail f = {.code = "not_registered",
	                     .device = "register",
	                     .message = message,
	                     .action = action,
	                     .tries = -1};

	return ctr_failed(c, CTR_EXIT_REFUSED, &f);
}

/* The record p must hold exactly the card's facts (and its My Number when shown). */
static int
same_person(const struct reg_person *p, const struct facts *f)
{
	return strcmp(p->name, f->name) == 0 && strcmp(p->address, f->address) == 0 &&
	       strcmp(p->birth, f->birth) == 0 && strcmp(p->sex, f->sex) == 0 &&
	       (f->mn[0] == '\0' || hwg_ct_memcmp(p->my_number, f->mn, sizeof(p->my_number)) == 0);
}

static int
search(struct ctr *c, struct hwgw_registry *r, const struct facts *f, struct reg_person *p)
{
	struct reg_query q = {
	    .name = f->name, .address = f->address, .birth = f->birth, .sex = f->sex};
	struct reg_hit hits[4];
	struct hwg_error err = {0};
	size_t n = 0;

	ctr_progress(c, "looking the four facts up in the register");
	if (hwgw_registry_search(r, &q, hits, 4, &n, &err) != 0 && err.code != HWG_E_TOO_LARGE)
		return ctr_error(c, "register", &err, "retry; if it repeats call the supervisor");
	if (n == 0)
		return no_match(
		    c,
		    "no resident of this city has the card's name, address, birth "
		    "date and sex",
		    "a resident moving in presents the card for `hwgw-counter move-in`; "
		    "otherwise check the address on the card with the resident");
	if (n > 1 || err.code == HWG_E_TOO_LARGE)
		return no_match(
		    c, "more than one record has the card's four facts",
		    "identify the resident from a second document and call the supervisor");
	if (hwgw_registry_get(r, hits[0].resident_code, f->mn[0] != '\0', p, &err) != 0)
		return ctr_error(c, "register", &err, "retry; if it repeats call the supervisor");
	if (!same_person(p, f))
		return no_match(c,
		                "the record found differs from the card in a fact (or its My "
		                "Number)",
		                "check the card and the record with the supervisor");
	if (strcmp(p->status, REG_ACTIVE) != 0)
		return no_match(c, "the record is not a current resident's (moved out or deceased)",
		                "a former resident's record (除票) is handled by the supervisor");
	return 0;
}

int
ctr_match_card(struct ctr *c, const cbor_item_t *info, struct reg_person *p)
{
	struct hwgw_registry *r = NULL;
	struct facts f;
	int rc;

	memset(&f, 0, sizeof(f));
	if (facts_of(info, &f) != 0)
		rc = no_match(c, "the card gave incomplete facts", "call the supervisor");
	else if ((rc = ctr_registry_open(c, &r)) == 0)
		rc = search(c, r, &f, p);
	hwgw_registry_close(r);
	hwg_wipe(&f, sizeof(f));
	return rc;
}

int
ctr_may_see_mn(const struct ctr *c, const cbor_item_t *info)
{
	char role[32], mn[16];
	const char *roles = c->conf.mynumber_roles, *hit;
	size_t n;

	if (roles == NULL || ctr_text(info, "mynumber", mn, sizeof(mn))[0] == '\0')
		return 0;
	ctr_state_value(c, "operator", "role", role, sizeof(role));
	n = strlen(role);
	for (hit = strstr(roles, role); n > 0 && hit != NULL; hit = strstr(hit + 1, role))
		if ((hit == roles || hit[-1] == ' ' || hit[-1] == ',') &&
		    (hit[n] == '\0' || hit[n] == ' ' || hit[n] == ','))
			return 1;
	return 0;
}

void
ctr_show_person(struct ctr *c, const struct reg_person *p, int show_mn)
{
	const char *mn = show_mn && p->my_number[0] ? p->my_number : "************";
	const char *sex = strcmp(p->sex, "1") == 0 ? "男" : strcmp(p->sex, "2") == 0 ? "女" : "?";

	ctr_say(c, "resident %s (record version %lld, %s)", p->resident_code, (long long)p->version,
	        p->status);
	ctr_say(c, "  氏名 %s (%s)", p->name, p->kana);
	ctr_say(c, "  生年月日 %s  性別 %s", p->birth, sex);
	ctr_say(c, "  住所 %s", p->address);
	ctr_say(c, "  世帯 %s  続柄 %s", p->household, p->relation);
	ctr_say(c, "  個人番号 %s%s", mn, show_mn ? "" : " (masked)");
	ctr_set(c, "resident_code", json_string(p->resident_code));
	ctr_set(c, "version", json_integer(p->version));
	ctr_set(c, "name", json_string(p->name));
	ctr_set(c, "kana", json_string(p->kana));
	ctr_set(c, "birth", json_string(p->birth));
	ctr_set(c, "sex", json_string(p->sex));
	ctr_set(c, "address", json_string(p->address));
	ctr_set(c, "household", json_string(p->household));
	ctr_set(c, "relation", json_string(p->relation));
	ctr_set(c, "my_number", json_string(mn));
}
