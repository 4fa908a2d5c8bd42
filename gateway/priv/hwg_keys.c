/*
 * hwg_keys.c — see hwg_keys.h.
 */
#include "hwg_keys.h"

#include <stdio.h>
#include <string.h>

static int
public_key(void *arg, int which, EVP_PKEY **out, int *alg, struct hwg_error *err)
{
	struct hwg_keyholder_key response, audit;
	const struct hwg_keyholder_key *k;

	*out = NULL;
	*alg = 0;
	if (which != HWG_OP_KEY_RESPONSE && which != HWG_OP_KEY_AUDIT)
		return hwg_error_set(err, HWG_E_INVALID, "no such key");
	hwg_keyholder_keys(arg, &response, &audit);
	k = which == HWG_OP_KEY_AUDIT ? &audit : &response;
	if ((*out = hwg_keyholder_key_public(k)) == NULL)
		return hwg_error_set(err, HWG_E_HSM, "cannot export the %s public key",
		                     which == HWG_OP_KEY_AUDIT ? "audit" : "response");
	*alg = k->alg;
	return 0;
}

static int
token_info(void *arg, struct hwg_op_token_info *out, struct hwg_error *err)
{
	struct hwg_keyholder_info ti;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = hwg_keyholder_info(arg, &ti, err)) != 0)
		return rc;
	snprintf(out->label, sizeof(out->label), "%s", ti.label);
	snprintf(out->manufacturer, sizeof(out->manufacturer), "%s", ti.manufacturer);
	snprintf(out->model, sizeof(out->model), "%s", ti.model);
	snprintf(out->serial, sizeof(out->serial), "%s", ti.serial);
	out->present = ti.present;
	out->logged_in = ti.logged_in;
	out->session_reopens = ti.session_reopens;
	return 0;
}

static int
template_seal(void *arg, const char *operator_id, const int8_t tmpl[HWG_MATCH_DIM], uint8_t **blob,
              size_t *blob_len, struct hwg_error *err)
{
	return hwg_keyholder_seal_template(arg, operator_id, tmpl, blob, blob_len, err);
}

static int
template_open(void *arg, const char *operator_id, const uint8_t *blob, size_t blob_len,
              int8_t tmpl[HWG_MATCH_DIM], struct hwg_error *err)
{
	return hwg_keyholder_open_template(arg, operator_id, blob, blob_len, tmpl, err);
}

void
hwg_keys_service(struct hwg_keyholder *kh, struct hwg_op_keys *out)
{
	*out = (struct hwg_op_keys){public_key, token_info, template_seal, template_open, kh};
}
