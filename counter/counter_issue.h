/*
 * counter_issue.h — a certificate in flight at this station: its request
 * id and the signed document kept in the state directory before
 * cert.issue is sent, so that an answer lost to a dropped connection or a
 * restarted gateway is resolved (request.status, the same request id,
 * cert.status) and never by asking for a second print.
 */
#ifndef COUNTER_ISSUE_H
#define COUNTER_ISSUE_H

#include "counter.h"

struct ctr_pending {
	char request_id[48];
	char kind[16];
	char subject[16];
	char issuance_no[100]; /* once an answer named it */
	uint8_t req_hash[32];  /* the last cert.issue sent */
	int has_hash;
	int64_t req_t;
	int resent; /* in memory: sent again by ctr_issue_resolve (no second resolve) */
};

/* The pending issuance ("issue"); HWG_E_NOT_FOUND when none. */
int ctr_pending_load(const struct ctr *c, struct ctr_pending *p, struct hwg_error *err);
int ctr_pending_save(const struct ctr *c, const struct ctr_pending *p, struct hwg_error *err);
void ctr_pending_clear(const struct ctr *c);

/*
 * Send cert.issue for the pending issuance with the document kept in
 * "issue.doc" (the request id makes it idempotent: a request id the
 * gateway knows answers with that issuance, printing nothing), then
 * report the outcome.  Returns the exit status.
 */
int ctr_issue_send(struct ctr *c, struct ctr_pending *p);
/* An issuance result (cert.issue, cert.status, cert.resolve) in words; the pending state follows.
 */
int ctr_issue_outcome(struct ctr *c, struct ctr_pending *p, const cbor_item_t *r);
/* What became of the pending issuance: cert.status, or request.status and the request id. */
int ctr_issue_resolve(struct ctr *c, struct ctr_pending *p);

#endif
