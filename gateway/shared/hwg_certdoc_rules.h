/*
 * hwg_certdoc_rules.h — hwg_certdoc's own: what a certificate of each
 * kind must and may show of a person, the format of each field, and the
 * rules about the My Number and a proxy (steps 5 to 8 of
 * hwg_certdoc_check, hwg_certdoc.h).  Apart from the decoding so that the
 * rules read as a table.  Messages name the person and the field, never
 * a value.
 */
#ifndef HWG_CERTDOC_RULES_H
#define HWG_CERTDOC_RULES_H

#include <stddef.h>

#include "hwg_certdoc.h"

/* 1 if s is 1 to max bytes of UTF-8 without a control character (hwg_certdoc.h). */
int hwg_certdoc_plain(const char *s, size_t max);
/* Step 5: every person's fields allowed for the kind, the required ones there, each well formed. */
int hwg_certdoc_rules_fields(const struct hwg_certdoc *doc, struct hwg_error *err);
/* Steps 6 and 7: my_number fields present exactly when "my_number" is true, and allowed then. */
int hwg_certdoc_rules_my_number(const struct hwg_certdoc *doc, struct hwg_error *err);
/* Step 8: a proxy names the letter of attorney. */
int hwg_certdoc_rules_letter(const struct hwg_certdoc *doc, struct hwg_error *err);

#endif
