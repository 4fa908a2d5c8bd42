/*
 * hwg_verify.c — every check of a request that needs no state (see
 * hwg_verify.h), in api.cddl's order, cheapest and least revealing
 * first; each refusal has its own code and message.
 */
#include "hwg_verify.h"

#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hwg_cose.h"
#include "hwg_roles.h"
#include "hwg_time.h"

void
hwg_reply_clear(struct hwg_reply *r)
{
	free(r->body);
	memset(r, 0, sizeof(*r));
}

static int
alg_allowed(const struct hwg_config *cfg, int alg)
{
	return (alg == HWG_COSE_ES256 && cfg->alg_es256) ||
	       (alg == HWG_COSE_EDDSA && cfg->alg_eddsa);
}

static int
check_envelope(const struct hwg_config *cfg, struct hwg_clients *clients,
               const struct hwg_peer *peer, const uint8_t *msg, size_t len, struct hwg_verdict *v,
               struct hwg_error *err)
{
	struct hwg_cose_sign1 m;
	int rc;

	if (len > cfg->max_body)
		return hwg_error_set(err, HWG_E_TOO_LARGE,
		                     "message of %zu bytes over the limit of %zu", len,
		                     cfg->max_body);
	if ((rc = hwg_cose_sign1_decode(msg, len, &m, err)) != 0)
		return rc;
	rc = hwg_request_parse(m.payload, m.payload_len, &v->req, err);
	if (rc == 0 || rc == HWG_E_BAD_VERSION)
		v->have_req = 1;
	if (rc != 0)
		goto out;
	if ((rc = hwg_clients_lookup(clients, v->req.client_id, &v->client)) != 0) {
		rc = hwg_error_set(err, HWG_E_UNKNOWN_CLIENT, "client \"%s\" is not registered",
		                   v->req.client_id);
		goto out;
	}
	v->have_client = 1;
	if (peer->uid >= 0 && !hwg_client_uid_allowed(&v->client, peer->uid)) {
		rc = hwg_error_set(err, HWG_E_UID_NOT_ALLOWED,
		                   "uid %lld may not connect as client \"%s\"",
		                   (long long)peer->uid, v->client.id);
		goto out;
	}
	if (!alg_allowed(cfg, m.alg) || hwg_cose_alg_for_key(v->client.key) != m.alg) {
		rc = hwg_error_set(
		    err, HWG_E_ALG_NOT_ALLOWED, "algorithm %s not allowed for client \"%s\"",
		    hwg_cose_alg_name(m.alg) ? hwg_cose_alg_name(m.alg) : "?", v->client.id);
		goto out;
	}
	rc = hwg_cose_sign1_verify(&m, v->client.key, err);
out:
	hwg_cose_sign1_clear(&m);
	return rc;
}

static int
check_request(const struct hwg_config *cfg, const struct hwg_peer *peer, struct hwg_verdict *v,
              struct hwg_error *err)
{
	const struct hwg_request *r = &v->req;
	int64_t now = hwg_now_ms(), skew = r->time_ms - now;

	if (strcmp(r->audience, cfg->gateway_id) != 0)
		return hwg_error_set(err, HWG_E_WRONG_AUDIENCE, "request is for gateway \"%s\"",
		                     r->audience);
	if (skew > cfg->clock_skew_ms || -skew > cfg->clock_skew_ms)
		return hwg_error_set(err, HWG_E_CLOCK_SKEW,
		                     "request time is %lld ms from gateway time (window %lld ms)",
		                     (long long)skew, (long long)cfg->clock_skew_ms);
	if (peer->url_op != NULL && strcmp(peer->url_op, r->op) != 0)
		return hwg_error_set(err, HWG_E_BAD_ENCODING,
		                     "URL names operation \"%s\" but the signed request \"%s\"",
		                     peer->url_op, r->op);
	if ((v->op = hwg_op_find(r->op)) == NULL)
		return hwg_error_set(err, HWG_E_UNKNOWN_OP, "operation \"%s\" is unknown", r->op);
	if ((v->op->roles & HWG_ROLE_BIT(v->client.role)) == 0)
		return hwg_error_set(err, HWG_E_FORBIDDEN, "role %s may not call %s",
		                     hwg_role_name(v->client.role), r->op);
	if (hwg_schema_check(r->args, v->op->args, v->op->n_args, err) != 0)
		return HWG_E_BAD_ARGS;
	return 0; /* the operator session is checked in execute, in the request's transaction */
}

void
hwg_verdict_clear(struct hwg_verdict *v)
{
	hwg_request_clear(&v->req);
	hwg_client_entry_clear(&v->client);
}

int
hwg_verify(const struct hwg_config *cfg, struct hwg_clients *clients, const struct hwg_peer *peer,
           const uint8_t *msg, size_t len, struct hwg_verdict *v)
{
	struct hwg_error err = {0};
	int rc;

	memset(v, 0, sizeof(*v));
	v->tries_left = -1;
	SHA256(msg, len, v->req_hash);
	rc = check_envelope(cfg, clients, peer, msg, len, v, &err);
	if (rc == 0)
		rc = check_request(cfg, peer, v, &err);
	v->code = rc;
	if (rc != 0)
		snprintf(v->message, sizeof(v->message), "%s", err.message);
	return rc;
}

int
hwg_reverify(const struct hwg_config *cfg, struct hwg_clients *clients, const struct hwg_peer *peer,
             const uint8_t *msg, size_t len, struct hwg_verdict *v)
{
	if (v->code != 0)
		return v->code;
	hwg_verdict_clear(v);
	return hwg_verify(cfg, clients, peer, msg, len, v);
}
