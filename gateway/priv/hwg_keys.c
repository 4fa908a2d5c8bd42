/*
 * hwg_keys.c — see hwg_keys.h.
 */
#include "hwg_keys.h"

#include <stdio.h>
#include <string.h>

static const char *const key_names[] = {"response", "audit", "seal"};

/* The keyholder's copy of key which: 0, or an error with err set. */
static int
key_of(void *arg, int which, struct hwg_keyholder_key *out, struct hwg_error *err)
{
	struct hwg_keyholder_key keys[2];

	if (which == HWG_OP_KEY_SEAL)
		return hwg_keyholder_seal_key(arg, out) != 0
		           ? hwg_error_set(err, HWG_E_NOT_FOUND, "the token has no seal key")
		           : 0;
	if (which != HWG_OP_KEY_RESPONSE && which != HWG_OP_KEY_AUDIT)
		return hwg_error_set(err, HWG_E_INVALID, "no such key");
	hwg_keyholder_keys(arg, &keys[HWG_OP_KEY_RESPONSE], &keys[HWG_OP_KEY_AUDIT]);
	*out = keys[which];
	return 0;
}

static int
public_key(void *arg, int which, EVP_PKEY **out, int *alg, struct hwg_error *err)
{
	struct hwg_keyholder_key key;
	int rc;

	*out = NULL;
	*alg = 0;
	if ((rc = key_of(arg, which, &key, err)) != 0)
		return rc;
	if ((*out = hwg_keyholder_key_public(&key)) == NULL)
		return hwg_error_set(err, HWG_E_HSM, "cannot export the %s public key",
		                     key_names[which]);
	*alg = key.alg;
	return 0;
}

static int
public_spki(void *arg, int which, uint8_t *der, size_t cap, size_t *len, int *alg,
            struct hwg_error *err)
{
	struct hwg_keyholder_key key;
	int rc;

	*len = 0;
	*alg = 0;
	if ((rc = key_of(arg, which, &key, err)) != 0)
		return rc;
	if (key.spki_len == 0 || key.spki_len > sizeof(key.spki) || key.spki_len > cap)
		return hwg_error_set(err, HWG_E_INTERNAL, "the %s public key does not fit",
		                     key_names[which]);
	memcpy(der, key.spki, key.spki_len);
	*len = key.spki_len;
	*alg = key.alg;
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
	                            .public_spki = public_spki,
	                            .token_info = token_info,
	                            .template_seal = template_seal,
	                            .template_open = template_open,
	                            .seal_summary = seal_summary,
	                            .seal_pdf = seal_pdf,
	                            .arg = kh};
}
