/*
 * hwg_templates.c — see hwg_templates.h.  The HSM does the cryptography
 * (hwg_p11_aead_seal/open); this file fixes the blob's shape and what is
 * authenticated with it.  The operator id sits between the domain string
 * (NUL-terminated) and the fixed-length header, so the AAD names exactly
 * one operator id.  Messages never quote blob bytes or the operator id
 * (a client's string): the caller knows which operator it asked about.
 */
#include "hwg_templates.h"

#include <stdlib.h>
#include <string.h>

#include "hwg_buf.h"

#define DOMAIN "hwgw-template-v1"
#define SEALED_LEN (HWG_P11_AEAD_OVERHEAD + HWG_MATCH_DIM)
#define AAD_MAX (sizeof(DOMAIN) + HWG_MATCH_ID_MAX + HWG_TEMPLATE_MAGIC_LEN)

_Static_assert(HWG_TEMPLATE_MAGIC_LEN + 1 == sizeof(HWG_TEMPLATE_MAGIC), "magic length");
_Static_assert(HWG_TEMPLATE_BLOB_LEN == HWG_TEMPLATE_MAGIC_LEN + SEALED_LEN, "blob length");

static int
operator_len(const char *operator_id, size_t *len, struct hwg_error *err)
{
	size_t n = operator_id != NULL ? strnlen(operator_id, HWG_MATCH_ID_MAX + 1) : 0;

	if (n == 0 || n > HWG_MATCH_ID_MAX)
		return hwg_error_set(err, HWG_E_INVALID, "operator id must be 1-%d bytes",
		                     HWG_MATCH_ID_MAX);
	*len = n;
	return 0;
}

/* domain ‖ NUL ‖ operator id ‖ header into aad; returns its length. */
static size_t
make_aad(uint8_t aad[AAD_MAX], const char *operator_id, size_t id_len)
{
	memcpy(aad, DOMAIN, sizeof(DOMAIN));
	memcpy(aad + sizeof(DOMAIN), operator_id, id_len);
	memcpy(aad + sizeof(DOMAIN) + id_len, HWG_TEMPLATE_MAGIC, HWG_TEMPLATE_MAGIC_LEN);
	return sizeof(DOMAIN) + id_len + HWG_TEMPLATE_MAGIC_LEN;
}

int
hwg_template_seal(struct hwg_p11 *p, struct hwg_p11_key *k, const char *operator_id,
                  const int8_t tmpl[HWG_MATCH_DIM], uint8_t **blob, size_t *blob_len,
                  struct hwg_error *err)
{
	uint8_t aad[AAD_MAX], *out;
	size_t id_len = 0, aad_len, sealed_len = 0;
	int rc;

	if (tmpl == NULL || blob == NULL || blob_len == NULL)
		return hwg_error_set(err, HWG_E_INVALID, "hwg_template_seal: bad arguments");
	if ((rc = operator_len(operator_id, &id_len, err)) != 0)
		return rc;
	aad_len = make_aad(aad, operator_id, id_len);
	if ((out = malloc(HWG_TEMPLATE_BLOB_LEN)) == NULL)
		return hwg_error_set(err, HWG_E_NOMEM, "out of memory");
	memcpy(out, HWG_TEMPLATE_MAGIC, HWG_TEMPLATE_MAGIC_LEN);
	rc = hwg_p11_aead_seal(p, k, aad, aad_len, (const uint8_t *)tmpl, HWG_MATCH_DIM,
	                       out + HWG_TEMPLATE_MAGIC_LEN, SEALED_LEN, &sealed_len, err);
	if (rc == 0 && sealed_len != SEALED_LEN)
		rc = hwg_error_set(err, HWG_E_INTERNAL, "sealed template of %zu bytes", sealed_len);
	if (rc != 0) {
		free(out);
		return rc;
	}
	*blob = out;
	*blob_len = HWG_TEMPLATE_BLOB_LEN;
	return 0;
}

/* The sealed part of a well-formed version-1 blob; HWG_E_TEMPLATE_TAMPERED otherwise. */
static int
blob_sealed(const uint8_t *blob, size_t blob_len, const uint8_t **sealed, struct hwg_error *err)
{
	const uint8_t *magic = NULL;
	struct hwg_buf *b;
	int rc = 0;

	if ((b = hwg_buf_from(blob, blob_len)) == NULL)
		return hwg_error_set(err, HWG_E_NOMEM, "out of memory");
	if (hwg_buf_get_view(b, HWG_TEMPLATE_MAGIC_LEN, &magic) != 0 ||
	    hwg_buf_get_view(b, SEALED_LEN, sealed) != 0 || hwg_buf_len(b) != 0)
		rc = hwg_error_set(err, HWG_E_TEMPLATE_TAMPERED,
		                   "sealed template is %zu bytes, not %d: it does not open for "
		                   "this operator",
		                   blob_len, HWG_TEMPLATE_BLOB_LEN);
	else if (memcmp(magic, HWG_TEMPLATE_MAGIC, HWG_TEMPLATE_MAGIC_LEN - 1) != 0)
		rc = hwg_error_set(err, HWG_E_TEMPLATE_TAMPERED,
		                   "not a sealed palm-vein template (no PVS magic): it does not "
		                   "open for this operator");
	else if (magic[HWG_TEMPLATE_MAGIC_LEN - 1] !=
	         HWG_TEMPLATE_MAGIC[HWG_TEMPLATE_MAGIC_LEN - 1])
		rc = hwg_error_set(err, HWG_E_TEMPLATE_TAMPERED,
		                   "sealed template of another format version (this gateway opens "
		                   "PVS1 only): it does not open for this operator");
	hwg_buf_free(b);
	return rc;
}

int
hwg_template_open(struct hwg_p11 *p, struct hwg_p11_key *k, const char *operator_id,
                  const uint8_t *blob, size_t blob_len, int8_t tmpl[HWG_MATCH_DIM],
                  struct hwg_error *err)
{
	const uint8_t *sealed = NULL;
	uint8_t aad[AAD_MAX];
	size_t id_len = 0, aad_len, n = 0;
	int rc;

	if (tmpl == NULL || (blob == NULL && blob_len > 0))
		return hwg_error_set(err, HWG_E_INVALID, "hwg_template_open: bad arguments");
	if ((rc = operator_len(operator_id, &id_len, err)) != 0 ||
	    (rc = blob_sealed(blob, blob_len, &sealed, err)) != 0)
		return rc;
	aad_len = make_aad(aad, operator_id, id_len);
	/* writes tmpl only when the tag verifies */
	rc = hwg_p11_aead_open(p, k, aad, aad_len, sealed, SEALED_LEN, (uint8_t *)tmpl,
	                       HWG_MATCH_DIM, &n, err);
	if (rc == HWG_E_TAMPERED)
		return hwg_error_set(err, HWG_E_TEMPLATE_TAMPERED,
		                     "sealed template does not open for this operator: changed, "
		                     "sealed for another operator, or under another key");
	if (rc == 0 && n != HWG_MATCH_DIM)
		return hwg_error_set(err, HWG_E_INTERNAL, "opened template of %zu bytes", n);
	return rc;
}
