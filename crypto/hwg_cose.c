/*
 * hwg_cose.c — see hwg_cose.h.  Decoding is strict on purpose: the bytes
 * come from the network, and anything this file lets through is trusted
 * by the signature check that follows.
 */
#include "hwg_cose.h"

#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/bn.h>
#include <openssl/obj_mac.h>
#include <stdlib.h>
#include <string.h>

#include "hwg_cbor.h"

static const char SIGNATURE1[] = "Signature1";

int
hwg_cose_alg_from_name(const char *name)
{
	if (strcmp(name, "ES256") == 0)
		return HWG_COSE_ES256;
	if (strcmp(name, "EdDSA") == 0)
		return HWG_COSE_EDDSA;
	return 0;
}

const char *
hwg_cose_alg_name(int alg)
{
	return alg == HWG_COSE_ES256 ? "ES256" : alg == HWG_COSE_EDDSA ? "EdDSA" : NULL;
}

int
hwg_cose_alg_for_key(EVP_PKEY *key)
{
	char group[32];
	size_t len;

	if (key == NULL)
		return 0;
	if (EVP_PKEY_is_a(key, "ED25519"))
		return HWG_COSE_EDDSA;
	if (EVP_PKEY_is_a(key, "EC") &&
	    EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group),
					   &len) == 1 &&
	    strcmp(group, "prime256v1") == 0)
		return HWG_COSE_ES256;
	return 0;
}

/* ---------------------------------------------------------------- decode */

/* The protected header: a map holding an integer alg (1), no crit (2). */
static int
decode_protected(const uint8_t *p, size_t len, int *alg, struct hwg_error *err)
{
	cbor_item_t *map = hwg_cbor_load(p, len, NULL);
	struct cbor_pair *pairs;
	int found = 0, rc = 0;

	if (map == NULL) {
		rc = hwg_error_set(err, HWG_E_BAD_ENCODING,
				   "protected header is not exactly one CBOR item");
		goto out;
	}
	if (!cbor_isa_map(map) || !cbor_map_is_definite(map)) {
		rc = hwg_error_set(err, HWG_E_BAD_ENCODING, "protected header is not a map");
		goto out;
	}
	pairs = cbor_map_handle(map);
	for (size_t i = 0; i < cbor_map_size(map) && rc == 0; i++) {
		const cbor_item_t *k = pairs[i].key, *v = pairs[i].value;

		if (!cbor_isa_uint(k) || cbor_get_int(k) != 1) {
			rc = hwg_error_set(err, HWG_E_BAD_ENCODING,
					   "protected header may hold only alg (1)");
		} else if (found) {
			rc = hwg_error_set(err, HWG_E_BAD_ENCODING, "alg repeated in protected header");
		} else if (cbor_isa_negint(v) && cbor_get_int(v) < 64) {
			*alg = -1 - (int)cbor_get_int(v);
			found = 1;
		} else if (cbor_isa_uint(v) && cbor_get_int(v) < 64) {
			*alg = (int)cbor_get_int(v);
			found = 1;
		} else {
			rc = hwg_error_set(err, HWG_E_BAD_ENCODING, "alg is not a small integer");
		}
	}
	if (rc == 0 && !found)
		rc = hwg_error_set(err, HWG_E_BAD_ENCODING, "protected header has no alg");
	if (rc == 0 && *alg != HWG_COSE_ES256 && *alg != HWG_COSE_EDDSA)
		rc = hwg_error_set(err, HWG_E_ALG_NOT_ALLOWED, "algorithm %d not allowed", *alg);
out:
	if (map != NULL)
		cbor_decref(&map);
	return rc;
}

static uint8_t *
dup_bytes(const uint8_t *p, size_t len)
{
	uint8_t *d = malloc(len ? len : 1);

	if (d != NULL && len > 0)
		memcpy(d, p, len);
	return d;
}

static int
decode_array(const cbor_item_t *arr, struct hwg_cose_sign1 *m, struct hwg_error *err)
{
	cbor_item_t **it;
	const uint8_t *p, *payload, *sig;
	size_t len, payload_len, sig_len;
	int rc;

	if (!cbor_isa_array(arr) || !cbor_array_is_definite(arr) || cbor_array_size(arr) != 4)
		return hwg_error_set(err, HWG_E_BAD_ENCODING, "not a COSE_Sign1 (4-element array)");
	it = cbor_array_handle(arr);
	if (hwg_cbor_bytes(it[0], &p, &len) != 0)
		return hwg_error_set(err, HWG_E_BAD_ENCODING, "protected header is not a bstr");
	if ((rc = decode_protected(p, len, &m->alg, err)) != 0)
		return rc;
	if (!cbor_isa_map(it[1]) || !cbor_map_is_definite(it[1]))
		return hwg_error_set(err, HWG_E_BAD_ENCODING, "unprotected header is not a map");
	for (size_t i = 0; i < cbor_map_size(it[1]); i++) {
		const cbor_item_t *k = cbor_map_handle(it[1])[i].key;

		if (cbor_isa_uint(k) && cbor_get_int(k) == 2)
			return hwg_error_set(err, HWG_E_BAD_ENCODING, "crit is not understood");
	}
	if (hwg_cbor_bytes(it[2], &payload, &payload_len) != 0)
		return hwg_error_set(err, HWG_E_BAD_ENCODING,
				     "payload is not an attached bstr (detached is refused)");
	if (hwg_cbor_bytes(it[3], &sig, &sig_len) != 0 || sig_len != HWG_COSE_SIG_LEN)
		return hwg_error_set(err, HWG_E_BAD_ENCODING, "signature is not a 64-byte bstr");
	m->protected_bytes = dup_bytes(p, len);
	m->payload = dup_bytes(payload, payload_len);
	if (m->protected_bytes == NULL || m->payload == NULL)
		return hwg_error_set(err, HWG_E_NOMEM, "out of memory");
	m->protected_len = len;
	m->payload_len = payload_len;
	memcpy(m->sig, sig, HWG_COSE_SIG_LEN);
	return 0;
}

int
hwg_cose_sign1_decode(const uint8_t *msg, size_t len, struct hwg_cose_sign1 *out,
		      struct hwg_error *err)
{
	struct hwg_cose_sign1 m;
	cbor_item_t *top, *arr;
	const char *why = NULL;
	int tagged = 0, rc;

	memset(&m, 0, sizeof(m));
	if (len == 0)
		return hwg_error_set(err, HWG_E_BAD_ENCODING, "empty message");
	/*
	 * libcbor 0.8 (Debian 12) refuses the one-byte tag forms 6..20 as
	 * malformed, and tag 18 is 0xd2 in that form: read that byte here.
	 */
	if (msg[0] == 0xd2) {
		msg++;
		len--;
		tagged = 1;
	}
	if ((top = hwg_cbor_load(msg, len, &why)) == NULL)
		return hwg_error_set(err, HWG_E_BAD_ENCODING, "%s", why);
	arr = top;
	if (cbor_isa_tag(top)) {
		if (tagged || cbor_tag_value(top) != HWG_COSE_TAG_SIGN1) {
			cbor_decref(&top);
			return hwg_error_set(err, HWG_E_BAD_ENCODING,
					     "tag is not a single COSE_Sign1 tag (18)");
		}
		arr = cbor_tag_item(top); /* a new reference */
		cbor_decref(&top);
		top = arr;
	}
	rc = decode_array(arr, &m, err);
	cbor_decref(&top);
	if (rc != 0) {
		hwg_cose_sign1_clear(&m);
		return rc;
	}
	*out = m;
	return 0;
}

void
hwg_cose_sign1_clear(struct hwg_cose_sign1 *m)
{
	free(m->protected_bytes);
	free(m->payload);
	memset(m, 0, sizeof(*m));
}

/* ---------------------------------------------------------------- signing */

int
hwg_cose_sig_structure(const uint8_t *prot, size_t prot_len, const uint8_t *payload,
		       size_t payload_len, uint8_t **out, size_t *out_len)
{
	cbor_item_t *a = cbor_new_definite_array(4);
	unsigned char *buf = NULL;
	size_t cap = 0, n = 0;
	int ok;

	if (a == NULL)
		return HWG_E_NOMEM;
	ok = cbor_array_push(a, cbor_move(cbor_build_string(SIGNATURE1))) &&
	     cbor_array_push(a, cbor_move(cbor_build_bytestring(prot, prot_len))) &&
	     cbor_array_push(a, cbor_move(cbor_build_bytestring(NULL, 0))) &&
	     cbor_array_push(a, cbor_move(cbor_build_bytestring(payload, payload_len)));
	if (ok)
		n = cbor_serialize_alloc(a, &buf, &cap);
	cbor_decref(&a);
	if (n == 0) {
		free(buf);
		return HWG_E_NOMEM;
	}
	*out = buf;
	*out_len = n;
	return 0;
}

int
hwg_ecdsa_raw_to_der(const uint8_t raw[64], uint8_t **der, size_t *der_len)
{
	ECDSA_SIG *s = ECDSA_SIG_new();
	BIGNUM *r = BN_bin2bn(raw, 32, NULL), *sv = BN_bin2bn(raw + 32, 32, NULL);
	unsigned char *p = NULL;
	int n;

	if (s == NULL || r == NULL || sv == NULL || ECDSA_SIG_set0(s, r, sv) != 1) {
		ECDSA_SIG_free(s);
		BN_free(r);
		BN_free(sv);
		return HWG_E_NOMEM;
	}
	n = i2d_ECDSA_SIG(s, &p);
	ECDSA_SIG_free(s);
	if (n <= 0)
		return HWG_E_NOMEM;
	*der = p;
	*der_len = (size_t)n;
	return 0;
}

int
hwg_ecdsa_der_to_raw(const uint8_t *der, size_t der_len, uint8_t raw[64])
{
	const unsigned char *p = der;
	ECDSA_SIG *s = d2i_ECDSA_SIG(NULL, &p, (long)der_len);
	const BIGNUM *r, *sv;
	int ok;

	if (s == NULL)
		return HWG_E_BAD_ENCODING;
	if (p != der + der_len) {
		ECDSA_SIG_free(s);
		return HWG_E_BAD_ENCODING;
	}
	ECDSA_SIG_get0(s, &r, &sv);
	ok = BN_bn2binpad(r, raw, 32) == 32 && BN_bn2binpad(sv, raw + 32, 32) == 32;
	ECDSA_SIG_free(s);
	return ok ? 0 : HWG_E_BAD_ENCODING;
}

int
hwg_cose_sign1_verify(const struct hwg_cose_sign1 *m, EVP_PKEY *pub, struct hwg_error *err)
{
	EVP_MD_CTX *md = NULL;
	uint8_t *tbs = NULL, *der = NULL;
	size_t tbs_len = 0, der_len = 0;
	int rc, ok = 0;

	if (hwg_cose_alg_for_key(pub) != m->alg)
		return hwg_error_set(err, HWG_E_ALG_NOT_ALLOWED,
				     "key type does not match algorithm %d", m->alg);
	if ((rc = hwg_cose_sig_structure(m->protected_bytes, m->protected_len, m->payload,
					 m->payload_len, &tbs, &tbs_len)) != 0)
		return hwg_error_set(err, rc, "cannot build Sig_structure");
	if ((md = EVP_MD_CTX_new()) == NULL) {
		free(tbs);
		return hwg_error_set(err, HWG_E_NOMEM, "out of memory");
	}
	if (m->alg == HWG_COSE_EDDSA) {
		ok = EVP_DigestVerifyInit(md, NULL, NULL, NULL, pub) == 1 &&
		     EVP_DigestVerify(md, m->sig, HWG_COSE_SIG_LEN, tbs, tbs_len) == 1;
	} else if (hwg_ecdsa_raw_to_der(m->sig, &der, &der_len) == 0) {
		ok = EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, pub) == 1 &&
		     EVP_DigestVerify(md, der, der_len, tbs, tbs_len) == 1;
		OPENSSL_free(der);
	}
	EVP_MD_CTX_free(md);
	free(tbs);
	return ok ? 0 : hwg_error_set(err, HWG_E_BAD_SIGNATURE, "signature does not verify");
}

int
hwg_cose_evp_signer(void *ctx, int alg, const uint8_t *tbs, size_t tbs_len,
		    uint8_t sig[HWG_COSE_SIG_LEN], struct hwg_error *err)
{
	EVP_PKEY *key = ctx;
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	uint8_t der[80];
	size_t len = sizeof(der);
	int ok;

	if (md == NULL)
		return hwg_error_set(err, HWG_E_NOMEM, "out of memory");
	if (hwg_cose_alg_for_key(key) != alg) {
		EVP_MD_CTX_free(md);
		return hwg_error_set(err, HWG_E_ALG_NOT_ALLOWED, "key does not match algorithm %d",
				     alg);
	}
	if (alg == HWG_COSE_EDDSA) {
		len = HWG_COSE_SIG_LEN;
		ok = EVP_DigestSignInit(md, NULL, NULL, NULL, key) == 1 &&
		     EVP_DigestSign(md, sig, &len, tbs, tbs_len) == 1 && len == HWG_COSE_SIG_LEN;
	} else {
		ok = EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, key) == 1 &&
		     EVP_DigestSign(md, der, &len, tbs, tbs_len) == 1 &&
		     hwg_ecdsa_der_to_raw(der, len, sig) == 0;
	}
	EVP_MD_CTX_free(md);
	return ok ? 0 : hwg_error_set(err, HWG_E_INTERNAL, "signing failed");
}

int
hwg_cose_sign1_encode(int alg, const uint8_t *payload, size_t payload_len,
		      hwg_cose_signer_fn sign, void *sign_ctx, uint8_t **out, size_t *out_len,
		      struct hwg_error *err)
{
	uint8_t prot[3] = {0xa1, 0x01, (uint8_t)(0x20 | (uint8_t)(-1 - alg))}; /* {1: alg} */
	uint8_t sig[HWG_COSE_SIG_LEN], *tbs = NULL;
	size_t tbs_len = 0, cap = 0, n = 0;
	cbor_item_t *arr, *tag;
	unsigned char *buf = NULL;
	int rc;

	if (alg != HWG_COSE_ES256 && alg != HWG_COSE_EDDSA)
		return hwg_error_set(err, HWG_E_ALG_NOT_ALLOWED, "algorithm %d not supported", alg);
	if ((rc = hwg_cose_sig_structure(prot, sizeof(prot), payload, payload_len, &tbs,
					 &tbs_len)) != 0)
		return hwg_error_set(err, rc, "cannot build Sig_structure");
	rc = sign(sign_ctx, alg, tbs, tbs_len, sig, err);
	free(tbs);
	if (rc != 0)
		return rc;
	if ((arr = cbor_new_definite_array(4)) == NULL)
		return hwg_error_set(err, HWG_E_NOMEM, "out of memory");
	if (cbor_array_push(arr, cbor_move(cbor_build_bytestring(prot, sizeof(prot)))) &&
	    cbor_array_push(arr, cbor_move(cbor_new_definite_map(0))) &&
	    cbor_array_push(arr, cbor_move(cbor_build_bytestring(payload, payload_len))) &&
	    cbor_array_push(arr, cbor_move(cbor_build_bytestring(sig, sizeof(sig)))) &&
	    (tag = cbor_build_tag(HWG_COSE_TAG_SIGN1, arr)) != NULL) {
		n = cbor_serialize_alloc(tag, &buf, &cap);
		cbor_decref(&tag);
	}
	cbor_decref(&arr);
	if (n == 0) {
		free(buf);
		return hwg_error_set(err, HWG_E_NOMEM, "out of memory");
	}
	*out = buf;
	*out_len = n;
	return 0;
}
