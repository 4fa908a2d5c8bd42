/*
 * hwg_core.h — the one path every request takes, whatever the transport.
 *
 * hwg_core owns the state store, the HSM session, the client registry and
 * the metrics.  A transport hands it the bytes it received and the peer
 * it got them from; the core decodes, checks (in the order of api.cddl's
 * refusals), dispatches, audits and signs, and hands back the signed
 * response bytes.  Transports never look inside a message and the core
 * never touches a socket.
 */
#ifndef HWG_CORE_H
#define HWG_CORE_H

#include <stddef.h>
#include <stdint.h>

#include "hwg_clients.h"
#include "hwg_config.h"
#include "hwg_err.h"
#include "hwg_operators.h"
#include "hwg_request.h"

struct hwg_core;
struct hwg_store;
struct hwg_p11;
struct hwg_p11_key;
struct hwg_metrics;
struct hwg_cards;
struct hwg_veins;
struct hwg_clients;
struct hwg_op;

struct hwg_peer {
	const char *transport; /* "unix" or "http" */
	int64_t uid;           /* SO_PEERCRED uid, -1 when not known */
	const char *url_op;    /* HTTP: the operation named in the URL */
};

struct hwg_reply {
	uint8_t *body; /* signed response (malloc'd), NULL if none could be signed */
	size_t len;
	int code; /* HWG_OK or the error code the response carries */
};

/*
 * The two halves of hwg_core_handle, so that the half that reads client
 * bytes can run where no store, HSM or device is.  What the checks learnt:
 */
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
/*
 * Verification: size, envelope, signature, request map, client, peer
 * uid, algorithm, audience, clock, URL/op, op, role, argument schema.
 * Pure: reads only cfg and the registry.  Fills v (always; release it
 * with hwg_verdict_clear) and returns v->code.
 */
int hwg_core_verify(const struct hwg_config *cfg, struct hwg_clients *clients,
                    const struct hwg_peer *peer, const uint8_t *msg, size_t len,
                    struct hwg_verdict *v);
/*
 * Execution: a verdict that passed runs (session, nonce, operation,
 * audit); one that did not is audited as a refusal.  Either way the
 * response is signed into out; returns as hwg_core_handle.
 */
int hwg_core_execute(struct hwg_core *c, const struct hwg_peer *peer, struct hwg_verdict *v,
                     struct hwg_reply *out);
void hwg_verdict_clear(struct hwg_verdict *v);
/*
 * The privileged process's own verdict on what the net process passed
 * (privilege separation): v is replaced by hwg_core_verify's on the
 * client's bytes msg, against this process's registry, so a net process
 * that lies cannot make anything run for a client without that client's
 * signature.  A refusal the net process made (v->code != 0) stays as it
 * is: it is only audited.  Returns v->code.
 */
int hwg_core_reverify(const struct hwg_config *cfg, struct hwg_clients *clients,
                      const struct hwg_peer *peer, const uint8_t *msg, size_t len,
                      struct hwg_verdict *v);
/* Open store, HSM and keys; refuses (HWG_E_CONFIG/HWG_E_HSM...) naming the problem. */
int hwg_core_open(const struct hwg_config *cfg, struct hwg_core **out, struct hwg_error *err);
/*
 * The net process's core (privilege separation): no store, HSM, device
 * or audit; an empty client registry (filled by hwg_core_clients's
 * owner) and metrics.  hwg_core_handle verifies here and hands the
 * verdict to forward, which returns the response the privileged process
 * signed; hwg_core_refuse forwards its refusal the same way.
 */
typedef int (*hwg_core_forward_fn)(void *arg, const struct hwg_peer *peer,
                                   const struct hwg_verdict *v, const uint8_t *msg, size_t len,
                                   struct hwg_reply *out);
int hwg_core_open_remote(const struct hwg_config *cfg, hwg_core_forward_fn forward, void *arg,
                         struct hwg_core **out, struct hwg_error *err);
/* Final checkpoint, then close everything; accepts NULL. */
void hwg_core_close(struct hwg_core *c);

/*
 * Handle one received message.  Returns 0 with out->body set to the
 * signed response (success or refusal); HWG_E_HSM (out->body NULL) when
 * no response could be signed, in which case the transport sends none.
 */
int hwg_core_handle(struct hwg_core *c, const struct hwg_peer *peer, const uint8_t *msg, size_t len,
                    struct hwg_reply *out);
/*
 * Refuse a message the transport could not hand over (over the size
 * limit, disallowed origin): audited, counted, and answered with a
 * signed error whose "req" hashes the bytes received (none).
 */
int hwg_core_refuse(struct hwg_core *c, const struct hwg_peer *peer, int code, const char *message,
                    struct hwg_reply *out);
void hwg_reply_clear(struct hwg_reply *r);

/* SIGHUP: reload the client registry from the store. */
int hwg_core_reload_clients(struct hwg_core *c, struct hwg_error *err);
/*
 * Once a second from the main loop: end expired operator sessions (each
 * audited as operator.session_end with its reason) and the time-based
 * audit checkpoint.
 */
void hwg_core_tick(struct hwg_core *c);

/* For operations and transports. */
const struct hwg_config *hwg_core_config(const struct hwg_core *c);
struct hwg_store *hwg_core_store(struct hwg_core *c);
struct hwg_p11 *hwg_core_p11(struct hwg_core *c);
struct hwg_p11_key *hwg_core_response_key(struct hwg_core *c);
struct hwg_p11_key *hwg_core_audit_key(struct hwg_core *c);
struct hwg_metrics *hwg_core_metrics(struct hwg_core *c);
struct hwg_cards *hwg_core_cards(struct hwg_core *c);
struct hwg_veins *hwg_core_veins(struct hwg_core *c);
struct hwg_clients *hwg_core_clients(struct hwg_core *c);
/* Audit something the gateway itself did (event "gateway.*"); 0 or the audit's error. */
int hwg_core_gateway_event(struct hwg_core *c, const char *event, const char *detail);

#endif
