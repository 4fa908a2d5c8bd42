/*
 * counter_match.h — the card's four facts against the register, and a
 * record as the clerk sees it.
 */
#ifndef COUNTER_MATCH_H
#define COUNTER_MATCH_H

#include <cbor.h>

#include "counter.h"
#include "hwgw_registry.h"

/*
 * The one current record whose name, address, birth date and sex are
 * the card's (card.read_info's result), into *p (its My Number only when
 * the card showed one, to compare).  0, or the exit status of a refusal
 * already reported.
 */
int ctr_match_card(struct ctr *c, const cbor_item_t *info, struct reg_person *p);
/* 1 when the gateway gave the card's My Number and the operator's role is in mynumber_roles. */
int ctr_may_see_mn(const struct ctr *c, const cbor_item_t *info);
/* The record for the clerk (and in the JSON result); the My Number masked unless show_mn. */
void ctr_show_person(struct ctr *c, const struct reg_person *p, int show_mn);
/* The card's YYYYMMDD as YYYY-MM-DD (out of 11 bytes); -1 if not 8 digits. */
int ctr_card_date(const char *card, char out[11]);

#endif
