/*
 * op_terminal.c — terminal.pair and terminal.cancel, and what the
 * operator operations share about terminals: the "terminal" argument and
 * the paired device key a capture must be signed with.
 *
 * Pairing is where the gateway learns which key a terminal's captures
 * are signed with, so it is an admin's act, and the admin confirms it by
 * comparing the key's fingerprint with what the terminal itself shows:
 * the fingerprint the client sends must equal the key the device proves
 * it holds, compared in constant time, before anything is recorded.
 */
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hwg_cbor.h"
#include "hwg_clients.h"
#include "hwg_ops.h"
#include "hwg_schema.h"
#include "hwg_terminals.h"
#include "hwg_time.h"
#include "hwg_vein.h"
#include "hwg_palm.h"

static int
nomem(struct hwg_error *err)
{
	return hwg_error_set(err, HWG_E_NOMEM, "out of memory");
}

int
hwg_op_terminal_arg(const struct hwg_op_ctx *ctx, char out[HWG_TERMINAL_ID_MAX + 1],
                    struct hwg_error *err)
{
	if (!hwg_args_text(ctx->req->args, "terminal", out, HWG_TERMINAL_ID_MAX + 1) ||
	    !hwg_terminal_id_valid(out))
		return hwg_error_set(err, HWG_E_BAD_ARGS,
		                     "\"terminal\" must be a terminal's serial (1-%d printable "
		                     "characters, no spaces)",
		                     HWG_TERMINAL_ID_MAX);
	return 0;
}

int
hwg_op_paired_key(struct hwg_op_ctx *ctx, const char *terminal,
                  uint8_t pubkey[HWG_TERMINAL_KEY_LEN], struct hwg_error *err)
{
	struct hwg_terminal_rec t;
	int rc = hwg_terminal_get(ctx->store, terminal, &t, err);

	if (rc == HWG_E_NOT_FOUND)
		return hwg_error_set(
		    err, HWG_E_TERMINAL_UNPAIRED,
		    "terminal \"%s\" is not paired with this gateway (an admin pairs "
		    "it with terminal.pair)",
		    terminal);
	if (rc == 0)
		memcpy(pubkey, t.pubkey, HWG_TERMINAL_KEY_LEN);
	return rc;
}

struct hwg_vein *
hwg_op_vein_driver(struct hwg_op_ctx *ctx, struct hwg_error *err)
{
	struct hwg_vein *v = hwg_palm_driver(ctx->palm);

	if (v == NULL)
		hwg_error_set(
		    err, HWG_E_UNAVAILABLE,
		    "palm-vein terminals are disabled in this gateway ([vein] enabled = no)");
	return v;
}

/* ---------------------------------------------------------------- terminal.pair */

struct pair_state {
	char terminal[HWG_TERMINAL_ID_MAX + 1];
	char given[HWG_VEIN_FINGERPRINT_LEN + 1]; /* lower-cased */
	uint8_t pubkey[HWG_TERMINAL_KEY_LEN];
	char fingerprint[HWG_VEIN_FINGERPRINT_LEN + 1];
};

/* 64 hex digits, lower-cased into out; -1 otherwise. */
static int
fingerprint_arg(const struct hwg_op_ctx *ctx, char out[HWG_VEIN_FINGERPRINT_LEN + 1])
{
	if (!hwg_args_text(ctx->req->args, "fingerprint", out, HWG_VEIN_FINGERPRINT_LEN + 1) ||
	    strlen(out) != HWG_VEIN_FINGERPRINT_LEN)
		return -1;
	for (char *p = out; *p != '\0'; p++) {
		if (*p >= 'A' && *p <= 'F')
			*p = (char)(*p - 'A' + 'a');
		else if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
			return -1;
	}
	return 0;
}

int
hwg_op_terminal_pair_prepare(struct hwg_op_ctx *ctx, struct hwg_error *err)
{
	struct pair_state *ps = calloc(1, sizeof(*ps));
	int rc;

	if (ps == NULL)
		return nomem(err);
	ctx->op_state = ps;
	ctx->op_state_free = free;
	if ((rc = hwg_op_terminal_arg(ctx, ps->terminal, err)) != 0)
		return rc;
	snprintf(ctx->subject, sizeof(ctx->subject), "terminal:%s", ps->terminal);
	if (fingerprint_arg(ctx, ps->given) != 0)
		return hwg_error_set(err, HWG_E_BAD_ARGS,
		                     "\"fingerprint\" must be the %d hex digits of SHA-256 the "
		                     "terminal displays",
		                     HWG_VEIN_FINGERPRINT_LEN);
	return 0;
}

int
hwg_op_terminal_pair(struct hwg_op_ctx *ctx, cbor_item_t **result, struct hwg_error *err)
{
	struct pair_state *ps = ctx->op_state;
	struct hwg_vein *v = hwg_op_vein_driver(ctx, err);
	int rc;

	(void)result;
	if (v == NULL)
		return err->code;
	if ((rc = hwg_vein_pair(v, ps->terminal, ps->pubkey, err)) != 0)
		return rc;
	hwg_vein_fingerprint(ps->pubkey, ps->fingerprint);
	if (CRYPTO_memcmp(ps->fingerprint, ps->given, HWG_VEIN_FINGERPRINT_LEN) != 0) {
		snprintf(
		    ctx->audit_detail, sizeof(ctx->audit_detail),
		    "fingerprint given %.16s..., the terminal's key %.16s...; nothing recorded",
		    ps->given, ps->fingerprint);
		return hwg_error_set(
		    err, HWG_E_DEVICE_SIGNATURE,
		    "the terminal's key does not have the fingerprint given: compare "
		    "with what terminal \"%s\" displays; nothing was recorded",
		    ps->terminal);
	}
	return 0;
}

static int
pair_result(const struct pair_state *ps, int replaced, cbor_item_t **result, struct hwg_error *err)
{
	cbor_item_t *m = cbor_new_definite_map(3);

	if (m == NULL || hwg_cbor_map_put_text(m, "terminal", ps->terminal) != 0 ||
	    hwg_cbor_map_put_text(m, "fingerprint", ps->fingerprint) != 0 ||
	    hwg_cbor_map_put_bool(m, "replaced", replaced) != 0) {
		if (m != NULL)
			cbor_decref(&m);
		return nomem(err);
	}
	*result = m;
	return 0;
}

/* Record the key; re-pairing replaces the old one, and the audit says so. */
int
hwg_op_terminal_pair_commit(struct hwg_op_ctx *ctx, int rc, cbor_item_t **result,
                            struct hwg_error *err)
{
	struct pair_state *ps = ctx->op_state;
	struct hwg_store *s = ctx->store;
	struct hwg_terminal_rec t, old;
	int had, same, replaced = 0;

	if (rc != 0)
		return rc;
	had = hwg_terminal_get(s, ps->terminal, &old, NULL) == 0;
	same = had && memcmp(old.pubkey, ps->pubkey, sizeof(old.pubkey)) == 0;
	memset(&t, 0, sizeof(t));
	memcpy(t.serial, ps->terminal, sizeof(t.serial));
	memcpy(t.pubkey, ps->pubkey, sizeof(t.pubkey));
	memcpy(t.paired_by, ctx->client->id, sizeof(t.paired_by));
	t.paired_ms = hwg_now_ms();
	if ((rc = hwg_terminal_pair(s, &t, &replaced, err)) != 0)
		return rc;
	snprintf(ctx->audit_detail, sizeof(ctx->audit_detail), "fingerprint=%s%s", ps->fingerprint,
	         !had   ? ""
	         : same ? " re-paired with the same key"
	                : " replaced the key paired before");
	return pair_result(ps, had && !same, result, err);
}

/* ---------------------------------------------------------------- terminal.cancel */

int
hwg_op_terminal_cancel(struct hwg_op_ctx *ctx, cbor_item_t **result, struct hwg_error *err)
{
	char terminal[HWG_TERMINAL_ID_MAX + 1];
	struct hwg_vein *v;
	cbor_item_t *m;
	int rc;

	if ((rc = hwg_op_terminal_arg(ctx, terminal, err)) != 0)
		return rc;
	snprintf(ctx->subject, sizeof(ctx->subject), "terminal:%s", terminal);
	if ((v = hwg_op_vein_driver(ctx, err)) == NULL)
		return err->code;
	rc = hwg_vein_cancel(v, terminal, err);
	if (rc != 0 && rc != HWG_E_NOT_FOUND)
		return rc;
	/* nothing to cancel is an answer, not a failure: the capture may just have ended */
	if ((m = cbor_new_definite_map(2)) == NULL ||
	    hwg_cbor_map_put_text(m, "terminal", terminal) != 0 ||
	    hwg_cbor_map_put_bool(m, "cancelled", rc == 0) != 0) {
		if (m != NULL)
			cbor_decref(&m);
		return nomem(err);
	}
	hwg_error_clear(err);
	*result = m;
	return 0;
}
