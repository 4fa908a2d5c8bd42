/*
 * op_gw.c — gw.info and device.list: who this gateway is and what
 * hardware it brokers right now (the HSM, pcscd and its card readers, the
 * certificate printers, the palm-vein terminals and their pairing).
 * Neither touches personal data, so every role (maintenance included)
 * may call them.
 */
#include <stdlib.h>
#include <string.h>

#include "hwg_card_service.h"
#include "hwg_cbor.h"
#include "hwg_cose.h"
#include "hwg_ops.h"
#include "hwg_terminals.h"
#include "hwg_vein.h"
#include "hwg_palm.h"

#define SPKI_MAX 512 /* a P-256 or Ed25519 SubjectPublicKeyInfo is under 100 bytes */

/*
 * The seal key's SubjectPublicKeyInfo into *m, as "seal_key", when the
 * token has one (anyone may check a certificate's code with it).
 */
static int
put_seal_key(const struct hwg_op_ctx *ctx, cbor_item_t *m, struct hwg_error *err)
{
	const struct hwg_op_keys *keys = ctx->keys;
	struct hwg_error why = {0};
	uint8_t der[SPKI_MAX];
	size_t len = 0;
	int alg = 0, rc;

	if ((rc = keys->public_spki(keys->arg, HWG_OP_KEY_SEAL, der, sizeof(der), &len, &alg,
	                            &why)) == HWG_E_NOT_FOUND)
		return 0;
	if (rc != 0)
		return hwg_error_set(err, HWG_E_HSM, "cannot export the seal public key");
	return hwg_cbor_map_put_bytes(m, "seal_key", der, len) != 0
	           ? hwg_error_set(err, HWG_E_NOMEM, "out of memory")
	           : 0;
}

int
hwg_op_gw_info(struct hwg_op_ctx *ctx, cbor_item_t **result, struct hwg_error *err)
{
	const struct hwg_op_keys *keys = ctx->keys;
	uint8_t der[SPKI_MAX];
	size_t der_len = 0;
	int alg = 0, rc;
	cbor_item_t *m;

	if (keys->public_spki(keys->arg, HWG_OP_KEY_RESPONSE, der, sizeof(der), &der_len, &alg,
	                      err) != 0)
		return hwg_error_set(err, HWG_E_HSM, "cannot export the response public key");
	if ((m = cbor_new_definite_map(6)) == NULL)
		return hwg_error_set(err, HWG_E_NOMEM, "out of memory");
	rc = hwg_cbor_map_put_text(m, "version", HWG_VERSION) |
	     hwg_cbor_map_put_text(m, "gateway_id", ctx->cfg->gateway_id) |
	     hwg_cbor_map_put_item(m, "alg", cbor_build_negint8((uint8_t)(-1 - alg))) |
	     hwg_cbor_map_put_bytes(m, "public_key", der, der_len) |
	     hwg_cbor_map_put_uint(m, "protocol", 1);
	if (rc != 0) {
		cbor_decref(&m);
		return hwg_error_set(err, HWG_E_NOMEM, "out of memory");
	}
	if ((rc = put_seal_key(ctx, m, err)) != 0) {
		cbor_decref(&m);
		return rc;
	}
	*result = m;
	return 0;
}

static cbor_item_t *
hsm_device(const struct hwg_op_ctx *ctx)
{
	struct hwg_op_token_info ti;
	struct hwg_error err = {0};
	const char *state;
	cbor_item_t *d;
	int rc, ok;

	rc = ctx->keys->token_info(ctx->keys->arg, &ti, &err);
	state = rc != 0 ? "error" : !ti.present ? "absent" : ti.logged_in ? "ready" : "error";
	if ((d = cbor_new_definite_map(rc == 0 ? 8 : 3)) == NULL)
		return NULL;
	ok = hwg_cbor_map_put_text(d, "class", "hsm") |
	     hwg_cbor_map_put_text(d, "id", ctx->cfg->hsm_token) |
	     hwg_cbor_map_put_text(d, "state", state);
	if (rc == 0)
		ok |= hwg_cbor_map_put_text(d, "label", ti.label) |
		      hwg_cbor_map_put_text(d, "manufacturer", ti.manufacturer) |
		      hwg_cbor_map_put_text(d, "model", ti.model) |
		      hwg_cbor_map_put_text(d, "serial", ti.serial) |
		      hwg_cbor_map_put_uint(d, "session_reopens", ti.session_reopens);
	if (ok != 0)
		cbor_decref(&d);
	return d;
}

static cbor_item_t *
reader_device(const struct hwg_reader_state *r)
{
	cbor_item_t *d = cbor_new_definite_map(r->card_present ? 5 : 4);

	if (d == NULL)
		return NULL;
	if (hwg_cbor_map_put_text(d, "class", "reader") != 0 ||
	    hwg_cbor_map_put_text(d, "id", r->name) != 0 ||
	    hwg_cbor_map_put_text(d, "state", "ready") != 0 ||
	    hwg_cbor_map_put_bool(d, "card_present", r->card_present) != 0 ||
	    (r->card_present && hwg_cbor_map_put_bytes(d, "atr", r->atr, r->atr_len) != 0))
		cbor_decref(&d);
	return d;
}

static cbor_item_t *
pcscd_device(int up)
{
	cbor_item_t *d = cbor_new_definite_map(3);

	if (d != NULL && (hwg_cbor_map_put_text(d, "class", "pcscd") != 0 ||
	                  hwg_cbor_map_put_text(d, "id", "pcscd") != 0 ||
	                  hwg_cbor_map_put_text(d, "state", up ? "ready" : "absent") != 0))
		cbor_decref(&d);
	return d;
}

/* Push a device entry (NULL: out of memory); the array keeps its own reference. */
static int
push_device(cbor_item_t *devices, cbor_item_t *d)
{
	int ok = d != NULL && cbor_array_push(devices, d);

	if (d != NULL)
		cbor_decref(&d);
	return ok ? 0 : -1;
}

/* pcscd and its readers, when the card service is on. */
static int
push_readers(const struct hwg_op_ctx *ctx, cbor_item_t *devices)
{
	struct hwg_pcsc *pcsc = hwg_card_service_pcsc(ctx->cards);
	struct hwg_reader_state readers[HWG_MAX_READERS];
	size_t n = 0;
	int up, rc;

	if (pcsc == NULL)
		return 0;
	up = hwg_pcsc_readers(pcsc, readers, HWG_MAX_READERS, &n);
	rc = push_device(devices, pcscd_device(up));
	for (size_t i = 0; rc == 0 && i < n; i++)
		rc = push_device(devices, reader_device(&readers[i]));
	return rc;
}

/* A palm-vein terminal: connected (info set) or only paired (absent); fp when paired. */
static cbor_item_t *
terminal_device(const char *serial, const struct hwg_vein_info *info, const char *fp)
{
	cbor_item_t *d = cbor_new_definite_map(4 + (info != NULL ? 4 : 0) + (fp != NULL));
	int rc;

	if (d == NULL)
		return NULL;
	rc = hwg_cbor_map_put_text(d, "class", "terminal") |
	     hwg_cbor_map_put_text(d, "id", serial) |
	     hwg_cbor_map_put_text(d, "state",
	                           info == NULL      ? "absent"
	                           : info->capturing ? "capturing"
	                                             : "ready") |
	     hwg_cbor_map_put_bool(d, "paired", fp != NULL);
	if (info != NULL)
		rc |= hwg_cbor_map_put_text(d, "model", info->model) |
		      hwg_cbor_map_put_text(d, "firmware", info->firmware) |
		      hwg_cbor_map_put_text(d, "template_format", info->template_format) |
		      hwg_cbor_map_put_bool(d, "capturing", info->capturing);
	if (fp != NULL)
		rc |= hwg_cbor_map_put_text(d, "fingerprint", fp);
	if (rc != 0)
		cbor_decref(&d);
	return d;
}

struct terminal_walk {
	cbor_item_t *devices;
	const struct hwg_vein_info *connected;
	size_t n_connected;
	int rc;
};

/* Each paired terminal: listed as absent when it is not plugged in. */
static int
push_absent(void *arg, const struct hwg_terminal_rec *t)
{
	struct terminal_walk *w = arg;
	char fp[HWG_VEIN_FINGERPRINT_LEN + 1];

	for (size_t i = 0; i < w->n_connected; i++)
		if (strcmp(w->connected[i].serial, t->serial) == 0)
			return 0;
	hwg_vein_fingerprint(t->pubkey, fp);
	return w->rc = push_device(w->devices, terminal_device(t->serial, NULL, fp));
}

/* The connected terminals with their pairing, then the paired ones not connected. */
static int
push_terminals(const struct hwg_op_ctx *ctx, cbor_item_t *devices, struct hwg_error *err)
{
	struct hwg_vein *v = hwg_palm_driver(ctx->palm);
	struct hwg_vein_info infos[HWG_VEIN_MAX_TERMINALS];
	struct terminal_walk w = {devices, infos, 0, 0};
	struct hwg_terminal_rec t;
	char fp[HWG_VEIN_FINGERPRINT_LEN + 1];
	int rc, paired;

	if (v != NULL)
		hwg_vein_list(v, infos, HWG_VEIN_MAX_TERMINALS, &w.n_connected);
	for (size_t i = 0; i < w.n_connected; i++) {
		rc = hwg_terminal_get(ctx->store, infos[i].serial, &t, err);
		if (rc != 0 && rc != HWG_E_NOT_FOUND)
			return rc;
		if ((paired = rc == 0))
			hwg_vein_fingerprint(t.pubkey, fp);
		if (push_device(devices, terminal_device(infos[i].serial, &infos[i],
		                                         paired ? fp : NULL)) != 0)
			return hwg_error_set(err, HWG_E_NOMEM, "out of memory");
	}
	hwg_error_clear(err);
	if ((rc = hwg_terminal_each(ctx->store, push_absent, &w, err)) != 0)
		return rc;
	return w.rc != 0 ? hwg_error_set(err, HWG_E_NOMEM, "out of memory") : 0;
}

#define PRINTERS_MAX 16 /* listed at most */

static cbor_item_t *
printer_device(const struct hwg_op_printer *p)
{
	static const char *const states[] = {[HWG_OP_PRINTER_READY] = "ready",
	                                     [HWG_OP_PRINTER_PAPER_OUT] = "paper_out",
	                                     [HWG_OP_PRINTER_OFFLINE] = "offline",
	                                     [HWG_OP_PRINTER_ERROR] = "error",
	                                     [HWG_OP_PRINTER_BUSY] = "busy"};
	int known = p->state >= 0 && p->state < (int)(sizeof(states) / sizeof(states[0]));
	cbor_item_t *d = cbor_new_definite_map(p->model[0] != '\0' ? 4 : 3);
	int rc;

	if (d == NULL)
		return NULL;
	rc = hwg_cbor_map_put_text(d, "class", "printer") |
	     hwg_cbor_map_put_text(d, "id", p->serial) |
	     hwg_cbor_map_put_text(d, "state", known ? states[p->state] : "error");
	if (p->model[0] != '\0')
		rc |= hwg_cbor_map_put_text(d, "model", p->model);
	if (rc != 0)
		cbor_decref(&d);
	return d;
}

/* The certificate printers connected now, when a printer driver runs. */
static int
push_printers(const struct hwg_op_ctx *ctx, cbor_item_t *devices)
{
	struct hwg_op_printer printers[PRINTERS_MAX];
	size_t n = 0;
	int rc = 0;

	if (ctx->printer_list == NULL)
		return 0;
	memset(printers, 0, sizeof(printers));
	ctx->printer_list(ctx->printer_list_arg, printers, PRINTERS_MAX, &n);
	for (size_t i = 0; rc == 0 && i < n && i < PRINTERS_MAX; i++) {
		printers[i].serial[sizeof(printers[i].serial) - 1] = '\0';
		printers[i].model[sizeof(printers[i].model) - 1] = '\0';
		rc = push_device(devices, printer_device(&printers[i]));
	}
	return rc;
}

int
hwg_op_device_list(struct hwg_op_ctx *ctx, cbor_item_t **result, struct hwg_error *err)
{
	cbor_item_t *devices, *m;
	int rc;

	if ((devices = cbor_new_indefinite_array()) == NULL)
		return hwg_error_set(err, HWG_E_NOMEM, "out of memory");
	if (push_device(devices, hsm_device(ctx)) != 0 || push_readers(ctx, devices) != 0 ||
	    push_printers(ctx, devices) != 0) {
		cbor_decref(&devices);
		return hwg_error_set(err, HWG_E_NOMEM, "out of memory");
	}
	if ((rc = push_terminals(ctx, devices, err)) != 0) {
		cbor_decref(&devices);
		return rc;
	}
	if ((m = cbor_new_definite_map(1)) == NULL ||
	    hwg_cbor_map_put_item(m, "devices", devices) != 0) {
		if (m != NULL)
			cbor_decref(&m);
		else
			cbor_decref(&devices);
		return hwg_error_set(err, HWG_E_NOMEM, "out of memory");
	}
	*result = m;
	return 0;
}
