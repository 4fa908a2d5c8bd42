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
#include "hwg_front.h"
#include "hwg_operators.h"
#include "hwg_verify.h"

struct hwg_core;
struct hwg_store;
struct hwg_op_keys;
struct hwg_op_journal;
struct hwg_metrics;
struct hwg_palm;
struct hwg_clients;
struct hwg_op;

/*
 * Execution: a verdict that passed runs (session, nonce, operation,
 * audit); one that did not is audited as a refusal.  Either way the
 * response is signed into out; returns as hwg_core_handle.
 */
int hwg_core_execute(struct hwg_core *c, const struct hwg_peer *peer, struct hwg_verdict *v,
                     struct hwg_reply *out);
/* Open store, HSM and keys; refuses (HWG_E_CONFIG/HWG_E_HSM...) naming the problem. */
int hwg_core_open(const struct hwg_config *cfg, struct hwg_core **out, struct hwg_error *err);
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
 * The in-process front (shared/hwg_front.h) for tests and fuzzers that
 * serve a transport from this process: checks, then execution here,
 * recording into metrics (may be NULL).
 */
void hwg_core_front(struct hwg_core *c, struct hwg_metrics *metrics, struct hwg_front *out);

/* SIGHUP: reload the client registry from the store. */
int hwg_core_reload_clients(struct hwg_core *c, struct hwg_error *err);
/*
 * Once a second from the main loop: end expired operator sessions (each
 * audited as operator.session_end with its reason) and the time-based
 * audit checkpoint.
 */
void hwg_core_tick(struct hwg_core *c);

/*
 * For the privileged process's other parts (the link: the registry) and
 * tests.  Handlers get what they use in their context (ops/hwg_ops.h).
 */
struct hwg_store *hwg_core_store(struct hwg_core *c);
/* The key service handlers get (over the keyholder): tests seal templates with it. */
const struct hwg_op_keys *hwg_core_keys(struct hwg_core *c);
struct hwg_palm *hwg_core_palm(struct hwg_core *c);
struct hwg_clients *hwg_core_clients(struct hwg_core *c);
/* The journal service device handlers get: tests record transitions with it. */
const struct hwg_op_journal *hwg_core_journal(struct hwg_core *c);
/*
 * The state lock, for a use of the store outside any request (the
 * journal service): the requests' open batch commits first, so the
 * caller finds no transaction open.  Not to be held by the caller of
 * hwg_core_execute.
 */
void hwg_core_state_lock(struct hwg_core *c);
void hwg_core_state_unlock(struct hwg_core *c);

/*
 * 1 while a device operation (HWG_OP_DEVICE) of client's with this
 * request hash runs: it started (its nonce is spent) and its audit record
 * is not written yet.  Call with the state lock held, that is from the
 * run phase of an operation without HWG_OP_DEVICE (request.status): the
 * record and the end of the run are then seen together or not at all.
 */
int hwg_core_request_running(struct hwg_core *c, const char *client, const uint8_t req_hash[32]);
/* Audit something the gateway itself did (event "gateway.*"); 0 or the audit's error. */
int hwg_core_gateway_event(struct hwg_core *c, const char *event, const char *detail);

#endif
