/*
 * step_card.c — step 2: the resident's card in the reader.  card.status
 * spends no PIN try; it tells the type and the tries left, so the clerk
 * can warn a resident with one try left before the PIN is typed.  A
 * 住基カード is explained as retired; another card as not a My Number card.
 * The visit needs an operator: the session goes with the request (the
 * gateway checks it is live), and without one the step is refused here.
 */
#include <stdio.h>
#include <string.h>

#include "counter.h"
#include "hwg_cbor.h"

static void
show_tries(struct ctr *c, const cbor_item_t *tries)
{
	static const char *const names[3] = {"auth", "support", "sign"};
	static const char *const words[3] = {"authentication PIN", "card-info PIN",
	                                     "signing password"};
	json_t *j = json_object();

	for (int i = 0; i < 3; i++) {
		int64_t n = ctr_uint(tries, names[i]);

		if (n < 0)
			continue;
		ctr_say(c, "  %-20s %lld tries left%s", words[i], (long long)n,
		        n == 0   ? " (LOCKED: reset at the counter)"
		        : n == 1 ? " (one more mistake locks it)"
		                 : "");
		json_object_set_new(j, names[i], json_integer(n));
	}
	ctr_set(c, "tries", j);
}

static int
judge(struct ctr *c, const cbor_item_t *r)
{
	char type[24];
	const cbor_item_t *present = hwg_cbor_map_get(r, "present", NULL);
	struct ctr_answer fake = {.tries = -1};

	ctr_set(c, "reader", json_string(c->conf.reader));
	if (present == NULL || !cbor_is_bool(present) || !cbor_get_bool(present)) {
		snprintf(fake.code, sizeof(fake.code), "no_card");
		snprintf(fake.message, sizeof(fake.message), "the reader is empty");
		ctr_set(c, "present", json_false());
		return ctr_gw_refused(c, "card.status", &fake);
	}
	ctr_set(c, "present", json_true());
	ctr_set(c, "type", json_string(ctr_text(r, "type", type, sizeof(type))));
	if (strcmp(type, "jukicard") == 0) {
		snprintf(fake.code, sizeof(fake.code), "card_retired");
		snprintf(fake.message, sizeof(fake.message),
		         "a 住民基本台帳カード: the card type has reached the end of its use");
		return ctr_gw_refused(c, "card.status", &fake);
	}
	if (strcmp(type, "mynumber") != 0) {
		snprintf(fake.code, sizeof(fake.code), "card_unsupported");
		snprintf(fake.message, sizeof(fake.message), "not a My Number card");
		return ctr_gw_refused(c, "card.status", &fake);
	}
	ctr_say(c, "My Number card (個人番号カード) in card reader \"%s\"", c->conf.reader);
	show_tries(c, hwg_cbor_map_get(r, "tries", NULL));
	return 0;
}

int
ctr_step_card(struct ctr *c, int argc, char **argv)
{
	struct hwg_error err = {0};
	struct ctr_answer a = {0};
	cbor_item_t *args = ctr_card_args(c, NULL);
	struct ctr_call call = {.op = "card.status", .args = args, .with_session = 1};
	int rc;

	(void)argc;
	(void)argv;
	if (args == NULL)
		return CTR_EXIT_ERROR;
	ctr_progress(c, "reading card reader \"%s\" (no PIN try is spent)", c->conf.reader);
	if (ctr_gw_call(c, &call, &a, &err) != 0)
		rc = ctr_gw_unreachable(c, "card.status", &err);
	else if (a.result == NULL)
		rc = ctr_gw_refused(c, "card.status", &a);
	else
		rc = judge(c, a.result);
	ctr_answer_clear(&a);
	cbor_decref(&args);
	return rc;
}
