/*
 * hwg_p11keys.c — see hwg_p11keys.h.  Each call is the PKCS#11 driver's
 * (drivers/hsm/hwg_p11.h) or the template sealing's (palm/hwg_templates.h)
 * own, with the key it takes named here instead of by the handler.
 */
#include "hwg_p11keys.h"

#include <stdio.h>
#include <string.h>

#include "hwg_p11.h"
#include "hwg_templates.h"

static int
public_key(void *arg, int which, EVP_PKEY **out, int *alg, struct hwg_error *err)
{
	struct hwg_p11keys *ks = arg;
	struct hwg_p11_key *k;

	*out = NULL;
	*alg = 0;
	if (which == HWG_OP_KEY_RESPONSE)
		k = ks->response;
	else if (which == HWG_OP_KEY_AUDIT)
		k = ks->audit;
	else
		return hwg_error_set(err, HWG_E_INVALID, "no such key");
	if ((*out = hwg_p11_key_public(k)) == NULL)
		return hwg_error_set(err, HWG_E_HSM, "cannot export the %s public key",
		                     which == HWG_OP_KEY_AUDIT ? "audit" : "response");
	*alg = hwg_p11_key_alg(k);
	return 0;
}

static int
token_info(void *arg, struct hwg_op_token_info *out, struct hwg_error *err)
{
	struct hwg_p11keys *ks = arg;
	struct hwg_p11_token_info ti;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = hwg_p11_token_info(ks->p11, &ti, err)) != 0)
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
	struct hwg_p11keys *ks = arg;

	return hwg_template_seal(ks->p11, ks->tmpl, operator_id, tmpl, blob, blob_len, err);
}

static int
template_open(void *arg, const char *operator_id, const uint8_t *blob, size_t blob_len,
              int8_t tmpl[HWG_MATCH_DIM], struct hwg_error *err)
{
	struct hwg_p11keys *ks = arg;

	return hwg_template_open(ks->p11, ks->tmpl, operator_id, blob, blob_len, tmpl, err);
}

void
hwg_p11keys_service(struct hwg_p11keys *ks, struct hwg_op_keys *out)
{
	*out = (struct hwg_op_keys){public_key, token_info, template_seal, template_open, ks};
}
