/*
 * op_audit.c — audit.verify and audit.query, for the people who review
 * the log (the source documents ask for a yearly review by someone other
 * than the operators, searchable by resident and by operator).
 */
#include <string.h>

#include "hwg_audit.h"
#include "hwg_cbor.h"
#include "hwg_ops.h"

int
hwg_op_audit_verify(struct hwg_op_ctx *ctx, cbor_item_t **result, struct hwg_error *err)
{
	const struct hwg_op_keys *keys = ctx->keys;
	struct hwg_audit_verify_result vr;
	EVP_PKEY *pub = NULL;
	cbor_item_t *m;
	int alg, rc, ok;

	if (keys->public_key(keys->arg, HWG_OP_KEY_AUDIT, &pub, &alg, err) != 0)
		return hwg_error_set(err, HWG_E_HSM, "cannot read the audit public key");
	memset(&vr, 0, sizeof(vr));
	rc = hwg_audit_verify(ctx->store, pub, &vr, err);
	EVP_PKEY_free(pub);
	if (rc != 0 && rc != HWG_E_TAMPERED)
		return rc;
	if ((m = cbor_new_definite_map(rc == 0 ? 3 : 5)) == NULL)
		return hwg_error_set(err, HWG_E_NOMEM, "out of memory");
	ok = hwg_cbor_map_put_bool(m, "ok", rc == 0) |
	     hwg_cbor_map_put_uint(m, "records", (uint64_t)vr.records) |
	     hwg_cbor_map_put_uint(m, "checkpoints", (uint64_t)vr.checkpoints);
	if (rc != 0)
		ok |= hwg_cbor_map_put_uint(m, "first_bad_seq", (uint64_t)vr.first_bad_seq) |
		      hwg_cbor_map_put_text(m, "reason", vr.reason);
	if (ok != 0) {
		cbor_decref(&m);
		return hwg_error_set(err, HWG_E_NOMEM, "out of memory");
	}
	hwg_error_clear(err);
	*result = m;
	return 0;
}

static cbor_item_t *
record_item(const struct hwg_audit_record *r)
{
	size_t n = 7 + (r->peer_uid >= 0) + (r->operator_id[0] != '\0') + (r->subject[0] != '\0');
	cbor_item_t *m = cbor_new_definite_map(n);
	int ok;

	if (m == NULL)
		return NULL;
	ok = hwg_cbor_map_put_uint(m, "seq", (uint64_t)r->seq) |
	     hwg_cbor_map_put_uint(m, "t", (uint64_t)r->time_ms) |
	     hwg_cbor_map_put_text(m, "client", r->client) |
	     hwg_cbor_map_put_text(m, "transport", r->transport) |
	     hwg_cbor_map_put_text(m, "op", r->operation) |
	     hwg_cbor_map_put_text(m, "result", r->result) |
	     hwg_cbor_map_put_bytes(m, "hash", r->hash, sizeof(r->hash));
	if (r->peer_uid >= 0)
		ok |= hwg_cbor_map_put_uint(m, "uid", (uint64_t)r->peer_uid);
	if (r->operator_id[0] != '\0')
		ok |= hwg_cbor_map_put_text(m, "operator", r->operator_id);
	if (r->subject[0] != '\0')
		ok |= hwg_cbor_map_put_text(m, "subject", r->subject);
	if (ok != 0)
		cbor_decref(&m);
	return m;
}

static int
collect(void *arg, const struct hwg_audit_record *r)
{
	cbor_item_t *list = arg, *item = record_item(r);
	int ok;

	if (item == NULL)
		return -1;
	ok = cbor_array_push(list, item);
	cbor_decref(&item);
	return ok ? 0 : -1;
}

/* The same items in a definite array (deterministic encoding); consumes list. */
static cbor_item_t *
definite_array(cbor_item_t *list)
{
	size_t n = cbor_array_size(list);
	cbor_item_t *def = cbor_new_definite_array(n);

	for (size_t i = 0; def != NULL && i < n; i++) {
		cbor_item_t *it = cbor_array_get(list, i);
		int ok = cbor_array_push(def, it);

		cbor_decref(&it);
		if (!ok)
			cbor_decref(&def);
	}
	cbor_decref(&list);
	return def;
}

int
hwg_op_audit_query(struct hwg_op_ctx *ctx, cbor_item_t **result, struct hwg_error *err)
{
	const cbor_item_t *args = ctx->req->args;
	char subject[129] = "", operator_id[65] = "";
	uint64_t from = 0, to = 0, limit = 100;
	struct hwg_audit_filter f;
	cbor_item_t *list, *m;
	int rc;

	hwg_args_text(args, "subject", subject, sizeof(subject));
	hwg_args_text(args, "operator", operator_id, sizeof(operator_id));
	hwg_args_uint(args, "from", &from);
	hwg_args_uint(args, "to", &to);
	hwg_args_uint(args, "limit", &limit);
	f = (struct hwg_audit_filter){
	    .subject = subject[0] ? subject : NULL,
	    .operator_id = operator_id[0] ? operator_id : NULL,
	    .from_ms = (int64_t)from,
	    .to_ms = (int64_t)to,
	    .limit = (int64_t)limit,
	};
	if ((list = cbor_new_indefinite_array()) == NULL)
		return hwg_error_set(err, HWG_E_NOMEM, "out of memory");
	if ((rc = hwg_audit_query(ctx->store, &f, collect, list, err)) != 0) {
		cbor_decref(&list);
		return rc;
	}
	if ((m = cbor_new_definite_map(1)) == NULL ||
	    hwg_cbor_map_put_item(m, "records", definite_array(list)) != 0) {
		if (m != NULL)
			cbor_decref(&m);
		return hwg_error_set(err, HWG_E_NOMEM, "out of memory");
	}
	*result = m;
	return 0;
}
