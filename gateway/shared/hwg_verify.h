/*
 * hwg_verify.h — the checks of a request that need no state: size,
 * COSE envelope, request map, client known, peer uid, algorithm,
 * signature, audience, clock, URL/op agreement, operation known, role,
 * argument schema (api.cddl's order).  Pure: reads only the
 * configuration and the client registry, so the net process runs it on
 * every request, and the privileged process runs it again on the bytes
 * the client signed (hwg_reverify) before anything executes.
 */
#ifndef HWG_VERIFY_H
#define HWG_VERIFY_H

#include <stddef.h>
#include <stdint.h>

#include "hwg_clients.h"
#include "hwg_config.h"
#include "hwg_err.h"
#include "hwg_ids.h"
#include "hwg_optable.h"
#include "hwg_request.h"

/* Who sent the bytes, as the transport learnt it. */
struct hwg_peer {
	const char *transport; /* "unix" or "http" */
	int64_t uid;           /* SO_PEERCRED uid, -1 when not known */
	const char *url_op;    /* HTTP: the operation named in the URL */
	double arrived;        /* hwg_mono_seconds at the request's first byte; 0: not known */
};

/*
 * Where the privileged process spent a request's time, in microseconds:
 * the net process adds its own stages and counts them (hwg_metrics_stages).
 */
struct hwg_priv_stages {
	uint32_t reverify_us; /* hwg_reverify */
	uint32_t execute_us;  /* the checks with state, the operation, its record */
	uint32_t commit_us;   /* waiting for the batch's commit */
	uint32_t sign_us;     /* the response, signed in the keyholder */
};

/* A signed response, as the privileged process made it. */
struct hwg_reply {
	uint8_t *body; /* signed response (malloc'd), NULL if none could be signed */
	size_t len;
	int code; /* HWG_OK or the error code the response carries */
	struct hwg_priv_stages stages;
};
void hwg_reply_clear(struct hwg_reply *r);

/* What the checks learnt. */
struct hwg_verdict {
	uint8_t req_hash[32]; /* SHA-256 of the bytes received, the response's "req" */
	int code;             /* HWG_OK when every check passed, else the refusal */
	char message[256];    /* the refusal's message */
	struct hwg_request req;
	int have_req;
	struct hwg_client_entry client;
	int have_client;
	const struct hwg_op *op;
	char operator_id[HWG_OPERATOR_ID_MAX + 1]; /* of the session, or the one claimed */
	char subject[128];
	int tries_left; /* of a refused PIN, -1 if none */
};
void hwg_verdict_clear(struct hwg_verdict *v);

/* Fills v (always; release it with hwg_verdict_clear) and returns v->code. */
int hwg_verify(const struct hwg_config *cfg, struct hwg_clients *clients,
               const struct hwg_peer *peer, const uint8_t *msg, size_t len, struct hwg_verdict *v);
/*
 * The privileged process's own verdict on what the net process passed
 * (privilege separation): v is replaced by hwg_verify's on the client's
 * bytes msg, against this process's registry, so a net process that lies
 * cannot make anything run for a client without that client's
 * signature.  A refusal the net process made (v->code != 0) stays as it
 * is: it is only audited.  Returns v->code.
 */
int hwg_reverify(const struct hwg_config *cfg, struct hwg_clients *clients,
                 const struct hwg_peer *peer, const uint8_t *msg, size_t len,
                 struct hwg_verdict *v);

#endif
