/*
 * op_gw.c — gw.info and device.list: who this gateway is and what
 * hardware it brokers right now.  Neither touches personal data, so every
 * role (maintenance included) may call them.
 */
#include <openssl/x509.h>
#include <stdlib.h>

#include "hwg_cbor.h"
#include "hwg_core.h"
#include "hwg_cose.h"
#include "hwg_ops.h"
#include "hwg_p11.h"

int
hwg_op_gw_info(struct hwg_op_ctx *ctx, cbor_item_t **result, struct hwg_error *err)
{
	struct hwg_core *c = ctx->core;
	struct hwg_p11_key *key = hwg_core_response_key(c);
	EVP_PKEY *pub = hwg_p11_key_public(key);
	unsigned char *der = NULL;
	int der_len, rc;
	cbor_item_t *m;

	if (pub == NULL || (der_len = i2d_PUBKEY(pub, &der)) <= 0) {
		EVP_PKEY_free(pub);
		return hwg_error_set(err, HWG_E_HSM, "cannot export the response public key");
	}
	EVP_PKEY_free(pub);
	if ((m = cbor_new_definite_map(5)) == NULL) {
		OPENSSL_free(der);
		return hwg_error_set(err, HWG_E_NOMEM, "out of memory");
	}
	rc = hwg_cbor_map_put_text(m, "version", HWG_VERSION) |
	     hwg_cbor_map_put_text(m, "gateway_id", hwg_core_config(c)->gateway_id) |
	     hwg_cbor_map_put_item(m, "alg",
	                           cbor_build_negint8((uint8_t)(-1 - hwg_p11_key_alg(key)))) |
	     hwg_cbor_map_put_bytes(m, "public_key", der, (size_t)der_len) |
	     hwg_cbor_map_put_uint(m, "protocol", 1);
	OPENSSL_free(der);
	if (rc != 0) {
		cbor_decref(&m);
		return hwg_error_set(err, HWG_E_NOMEM, "out of memory");
	}
	*result = m;
	return 0;
}

static cbor_item_t *
hsm_device(struct hwg_core *c)
{
	struct hwg_p11_token_info ti;
	struct hwg_error err = {0};
	const char *state;
	cbor_item_t *d;
	int rc, ok;

	rc = hwg_p11_token_info(hwg_core_p11(c), &ti, &err);
	state = rc != 0 ? "error" : !ti.present ? "absent" : ti.logged_in ? "ready" : "error";
	if ((d = cbor_new_definite_map(rc == 0 ? 8 : 3)) == NULL)
		return NULL;
	ok = hwg_cbor_map_put_text(d, "class", "hsm") |
	     hwg_cbor_map_put_text(d, "id", hwg_core_config(c)->hsm_token) |
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

int
hwg_op_device_list(struct hwg_op_ctx *ctx, cbor_item_t **result, struct hwg_error *err)
{
	cbor_item_t *devices, *hsm, *m;

	if ((devices = cbor_new_definite_array(1)) == NULL)
		return hwg_error_set(err, HWG_E_NOMEM, "out of memory");
	if ((hsm = hsm_device(ctx->core)) == NULL || !cbor_array_push(devices, hsm)) {
		if (hsm != NULL)
			cbor_decref(&hsm);
		cbor_decref(&devices);
		return hwg_error_set(err, HWG_E_NOMEM, "out of memory");
	}
	cbor_decref(&hsm);
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
