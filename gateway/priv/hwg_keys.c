/*
 * hwg_keys.c — see hwg_keys.h.
 */
#include "hwg_keys.h"

#include <stdio.h>
#include <string.h>

static int
public_key(void *arg, int which, EVP_PKEY **out, int *alg, struct hwg_error *err)
{
	static const char *const names[] = {"response", "audit", "seal"};
	struct hwg_keyholder_key keys[3];

	*out = NULL;
	*alg = 0;
	if (which != HWG_OP_KEY_RESPONSE && which != HWG_OP_KEY_AUDIT && which != HWG_OP_KEY_SEAL)
		return hwg_error_set(err, HWG_E_INVALID, "no such key");
	hwg_keyholder_keys(arg, &keys[HWG_OP_KEY_RESPONSE], &keys[HWG_OP_KEY_AUDIT]);
	if (which == HWG_OP_KEY_SEAL && hwg_keyholder_seal_key(arg, &keys[HWG_OP_KEY_SEAL]) != 0)
		return hwg_error_set(err, HWG_E_NOT_FOUND, "the token has no seal key");
	if ((*out = hwg_keyholder_key_public(&keys[which])) == NULL)
		return hwg_error_set(err, HWG_E_HSM, "cannot export the %s public key",
		                     names[which]);
	*alg = keys[which].alg;
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

static int
seal_summary(void *arg, const struct hwg_certcode_summary *s, uint8_t **cose, size_t *cose_len,
             struct hwg_error *err)
{
	return hwg_keyholder_seal_summary(arg, s, cose, cose_len, err);
}

static int
seal_pdf(void *arg, const char *issuance_no, const uint8_t pdf_digest[32],
         uint8_t seal[HWG_CERTCODE_SEAL_LEN], struct hwg_error *err)
{
	return hwg_keyholder_seal_pdf(arg, issuance_no, pdf_digest, seal, err);
}

void
hwg_keys_service(struct hwg_keyholder *kh, struct hwg_op_keys *out)
{
	*out = (struct hwg_op_keys){.public_key = public_key,
	                            .token_info = token_info,
	                            .template_seal = template_seal,
	                            .template_open = template_open,
	                            .seal_summary = seal_summary,
	                            .seal_pdf = seal_pdf,
	                            .arg = kh};
}
