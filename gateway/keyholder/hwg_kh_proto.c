/*
 * hwg_kh_proto.c — see hwg_kh_proto.h.  Each side decodes what the other
 * sends as strictly as client bytes: the keyholder because a taken-over
 * privileged process must not turn it into a signing oracle, the
 * privileged process because the keyholder runs a vendor's module.
 */
#include "hwg_kh_proto.h"

#include <cbor.h>
#include <openssl/x509.h>
#include <stdlib.h>
#include <string.h>

#include "hwg_cbor.h"
#include "hwg_cose.h"
#include "hwg_ids.h"

_Static_assert(HWG_OPERATOR_ID_MAX == HWG_MATCH_ID_MAX, "operator ids are the matcher's");

/* ---------------------------------------------------------------- helpers */

static int
put_text(struct hwg_buf *b, const char *s, size_t max)
{
	size_t n = s != NULL ? strnlen(s, max + 1) : 0;

	if (n > max)
		n = max; /* messages are cut, never refused */
	return hwg_buf_put_string(b, s != NULL ? s : "", n);
}

/* A string of at most max bytes, no NUL or control byte, into out (max + 1). */
static int
get_text(struct hwg_buf *b, char *out, size_t max)
{
	const uint8_t *p;
	size_t len;

	if (hwg_buf_get_string_view(b, max, &p, &len) != 0)
		return -1;
	for (size_t i = 0; i < len; i++)
		if (p[i] < 0x20 || p[i] == 0x7f)
			return -1;
	memcpy(out, p, len);
	out[len] = '\0';
	return 0;
}

/* A code this build knows: 0 or one of HWG_E_*. */
static int
known_code(int32_t code)
{
	return code == 0 ||
	       (code < 0 && code > HWG_E_MIN_ && strcmp(hwg_err_code(code), "unknown") != 0);
}

static int
get_operator(struct hwg_buf *b, char operator_id[HWG_MATCH_ID_MAX + 1], struct hwg_error *err)
{
	const uint8_t *p;
	size_t len;

	if (hwg_buf_get_string_view(b, HWG_MATCH_ID_MAX, &p, &len) != 0)
		return hwg_error_set(err, HWG_E_BAD_ARGS,
		                     "the operator id is not a string of at most %d bytes",
		                     HWG_MATCH_ID_MAX);
	if (len == 0 || memchr(p, '\0', len) != NULL)
		return hwg_error_set(err, HWG_E_BAD_ARGS,
		                     "the operator id is empty or holds a NUL");
	memcpy(operator_id, p, len);
	operator_id[len] = '\0';
	if (!hwg_operator_id_valid(operator_id))
		return hwg_error_set(err, HWG_E_BAD_ARGS,
		                     "the operator id is not 1-%d characters of A-Z a-z 0-9 . _ -",
		                     HWG_MATCH_ID_MAX);
	return 0;
}

static int
put_operator(struct hwg_buf *b, const char *operator_id)
{
	size_t n = operator_id != NULL ? strnlen(operator_id, HWG_MATCH_ID_MAX + 1) : 0;

	if (n == 0 || n > HWG_MATCH_ID_MAX)
		return HWG_E_INVALID;
	return hwg_buf_put_string(b, operator_id, n);
}

static int
leftover(struct hwg_buf *b, const char *what, struct hwg_error *err)
{
	if (hwg_buf_len(b) != 0)
		return hwg_error_set(err, HWG_E_BAD_ARGS, "%zu bytes after the %s", hwg_buf_len(b),
		                     what);
	return 0;
}

/* ---------------------------------------------------------------- replies */

int
hwg_kh_reply_encode(int code, const char *message, const uint8_t *result, size_t result_len,
                    struct hwg_buf *b)
{
	if (code > 0 || (code < 0 && result_len > 0))
		return HWG_E_INVALID;
	if (hwg_buf_put_u32be(b, (uint32_t)code) != 0 ||
	    put_text(b, code == 0 ? "" : message, HWG_KH_TEXT_MAX) != 0 ||
	    hwg_buf_put_string(b, result, result_len) != 0)
		return HWG_E_TOO_LARGE;
	return 0;
}

int
hwg_kh_reply_decode(struct hwg_buf *b, int *code, char message[HWG_KH_TEXT_MAX + 1],
                    const uint8_t **result, size_t *result_len, struct hwg_error *err)
{
	const uint8_t *p;
	uint32_t v;
	size_t len;

	if (hwg_buf_get_u32be(b, &v) != 0 || !known_code((int32_t)v) ||
	    get_text(b, message, HWG_KH_TEXT_MAX) != 0 ||
	    hwg_buf_get_string_view(b, HWG_KH_TBS_MAX, &p, &len) != 0 || hwg_buf_len(b) != 0 ||
	    ((int32_t)v != 0 && len > 0) || ((int32_t)v == 0 && message[0] != '\0'))
		return hwg_error_set(err, HWG_E_BAD_ENCODING, "malformed reply from the keyholder");
	*code = (int32_t)v;
	*result = p;
	*result_len = len;
	return 0;
}

int
hwg_kh_ready_encode(int code, const char *message, struct hwg_buf *b)
{
	if (code > 0)
		return HWG_E_INVALID;
	if (hwg_buf_put_u32be(b, (uint32_t)code) != 0 ||
	    put_text(b, code == 0 ? "" : message, HWG_KH_TEXT_MAX) != 0)
		return HWG_E_TOO_LARGE;
	return 0;
}

int
hwg_kh_ready_decode(struct hwg_buf *b, int *code, char message[HWG_KH_TEXT_MAX + 1],
                    struct hwg_error *err)
{
	uint32_t v;

	if (hwg_buf_get_u32be(b, &v) != 0 || !known_code((int32_t)v) ||
	    get_text(b, message, HWG_KH_TEXT_MAX) != 0 || hwg_buf_len(b) != 0)
		return hwg_error_set(err, HWG_E_BAD_ENCODING,
		                     "malformed ready message from the keyholder");
	*code = (int32_t)v;
	return 0;
}

/* ---------------------------------------------------------------- SIGN_RESPONSE */

int
hwg_kh_sign_response_encode(const uint8_t *tbs, size_t len, struct hwg_buf *b)
{
	if (len > HWG_KH_TBS_MAX)
		return HWG_E_TOO_LARGE;
	return hwg_buf_put_string(b, tbs, len);
}

int
hwg_kh_sign_response_decode(struct hwg_buf *b, const uint8_t **tbs, size_t *len,
                            struct hwg_error *err)
{
	if (hwg_buf_get_string_view(b, HWG_KH_TBS_MAX, tbs, len) != 0)
		return hwg_error_set(err, HWG_E_BAD_ARGS,
		                     "SIGN_RESPONSE carries one string of at most %u bytes",
		                     HWG_KH_TBS_MAX);
	return leftover(b, "Sig_structure", err);
}

static const char *const response_keys[] = {"v", "req", "t", "ok", "err", NULL};
static const char *const error_keys[] = {"code", "msg", "tries", NULL};

/* Why e is not an "err" value of api.cddl, or NULL. */
static const char *
error_map_fault(const cbor_item_t *e)
{
	char bad[32], code[64];
	const cbor_item_t *msg, *tries;
	uint64_t u;
	int dup = 0;

	if (!cbor_isa_map(e) || hwg_cbor_map_keys_check(e, error_keys, bad, sizeof(bad)) != 0)
		return "\"err\" is not a map of code, msg and tries";
	if (hwg_cbor_text_copy(hwg_cbor_map_get(e, "code", &dup), code, sizeof(code)) != 0 ||
	    strcmp(hwg_err_code(hwg_err_from_code(code)), code) != 0)
		return "\"err\" has no known error code";
	msg = hwg_cbor_map_get(e, "msg", &dup);
	if (msg == NULL || !cbor_isa_string(msg) || !cbor_string_is_definite(msg))
		return "\"err\" has no message";
	tries = hwg_cbor_map_get(e, "tries", &dup);
	if (tries != NULL && hwg_cbor_uint(tries, &u) != 0)
		return "\"err\" has tries that are not a uint";
	return NULL;
}

/* Why m is not one response map of api.cddl, or NULL. */
static const char *
response_map_fault(const cbor_item_t *m)
{
	const cbor_item_t *v, *err;
	const uint8_t *req;
	size_t req_len;
	char bad[32];
	uint64_t u;
	int dup = 0;

	if (!cbor_isa_map(m) || hwg_cbor_map_keys_check(m, response_keys, bad, sizeof(bad)) != 0)
		return "the payload is not a response map (v, req, t, ok or err)";
	if ((v = hwg_cbor_map_get(m, "v", &dup)) == NULL || hwg_cbor_uint(v, &u) != 0 || u != 1)
		return "the response's \"v\" is not 1";
	if (hwg_cbor_bytes(hwg_cbor_map_get(m, "req", &dup), &req, &req_len) != 0 || req_len != 32)
		return "the response's \"req\" is not a 32-byte bstr";
	if (hwg_cbor_uint(hwg_cbor_map_get(m, "t", &dup), &u) != 0)
		return "the response's \"t\" is not a uint";
	/* v, req and t are there, no key twice: a fourth key is ok or err */
	if (cbor_map_size(m) != 4)
		return "the response has not exactly one of \"ok\" and \"err\"";
	if ((err = hwg_cbor_map_get(m, "err", &dup)) != NULL)
		return error_map_fault(err);
	return NULL;
}

/* Why s (the decoded tbs) is not what the response key may sign, or NULL. */
static const char *
sig_structure_fault(const uint8_t prot[3], const cbor_item_t *s, const uint8_t *tbs, size_t len)
{
	cbor_item_t **f, *m;
	const uint8_t *p, *payload;
	size_t p_len, payload_len, want_len = 0;
	uint8_t *want = NULL;
	const char *why;

	if (!cbor_isa_array(s) || !cbor_array_is_definite(s) || cbor_array_size(s) != 4)
		return "not a Sig_structure (a definite array of 4)";
	f = cbor_array_handle(s);
	if (!hwg_cbor_text_eq(f[0], "Signature1"))
		return "its context is not \"Signature1\"";
	if (hwg_cbor_bytes(f[1], &p, &p_len) != 0 || p_len != 3 || memcmp(p, prot, 3) != 0)
		return "its protected header is not {1: the response key's algorithm}";
	if (hwg_cbor_bytes(f[2], &p, &p_len) != 0 || p_len != 0)
		return "its external_aad is not empty";
	if (hwg_cbor_bytes(f[3], &payload, &payload_len) != 0)
		return "its payload is not a bstr";
	if ((m = hwg_cbor_load(payload, payload_len, NULL)) == NULL)
		return "its payload is not one CBOR item";
	why = response_map_fault(m);
	cbor_decref(&m);
	if (why != NULL)
		return why;
	/* the bytes the gateway itself would have built, and no others */
	if (hwg_cose_sig_structure(prot, 3, payload, payload_len, &want, &want_len) != 0 ||
	    want_len != len || memcmp(want, tbs, len) != 0)
		why = "it is not in the gateway's encoding";
	free(want);
	return why;
}

int
hwg_kh_response_check(int alg, const uint8_t *tbs, size_t len, struct hwg_error *err)
{
	uint8_t prot[3] = {0xa1, 0x01, 0}; /* {1: alg} */
	const char *why;
	cbor_item_t *s;

	if (alg != HWG_COSE_ES256 && alg != HWG_COSE_EDDSA)
		return hwg_error_set(err, HWG_E_BAD_ARGS, "algorithm %d is not a response key's",
		                     alg);
	prot[2] = (uint8_t)(0x20 | (-1 - alg)); /* negative integer, argument 6 or 7 */
	if ((s = hwg_cbor_load(tbs, len, NULL)) == NULL) {
		why = "not one CBOR item";
	} else {
		why = sig_structure_fault(prot, s, tbs, len);
		cbor_decref(&s);
	}
	if (why != NULL)
		return hwg_error_set(err, HWG_E_BAD_ARGS,
		                     "the response key signs responses only: %s", why);
	return 0;
}

/* ---------------------------------------------------------------- SIGN_CHECKPOINT */

int
hwg_kh_checkpoint_encode(const struct hwg_kh_checkpoint *cp, struct hwg_buf *b)
{
	if (cp->seq < 1 || cp->time_ms < 0)
		return HWG_E_INVALID;
	if (hwg_buf_put_u64be(b, (uint64_t)cp->seq) != 0 ||
	    hwg_buf_put(b, cp->hash, sizeof(cp->hash)) != 0 ||
	    hwg_buf_put_u64be(b, (uint64_t)cp->time_ms) != 0)
		return HWG_E_TOO_LARGE;
	return 0;
}

int
hwg_kh_checkpoint_decode(struct hwg_buf *b, struct hwg_kh_checkpoint *cp, struct hwg_error *err)
{
	struct hwg_kh_checkpoint c;
	uint64_t seq, t;

	if (hwg_buf_len(b) != 8 + HWG_KH_HASH_LEN + 8)
		return hwg_error_set(err, HWG_E_BAD_ARGS, "SIGN_CHECKPOINT is %d bytes, not %zu",
		                     8 + HWG_KH_HASH_LEN + 8, hwg_buf_len(b));
	hwg_buf_get_u64be(b, &seq);
	hwg_buf_get(b, c.hash, sizeof(c.hash));
	hwg_buf_get_u64be(b, &t);
	if (seq < 1 || seq > INT64_MAX || t > INT64_MAX)
		return hwg_error_set(
		    err, HWG_E_BAD_ARGS,
		    "a checkpoint's sequence is 1 or more and its time not negative");
	c.seq = (int64_t)seq;
	c.time_ms = (int64_t)t;
	*cp = c;
	return 0;
}

/* ---------------------------------------------------------------- templates */

int
hwg_kh_seal_encode(const char *operator_id, const int8_t tmpl[HWG_MATCH_DIM], struct hwg_buf *b)
{
	int rc = put_operator(b, operator_id);

	if (rc != 0)
		return rc;
	return hwg_buf_put(b, tmpl, HWG_MATCH_DIM) != 0 ? HWG_E_TOO_LARGE : 0;
}

int
hwg_kh_seal_decode(struct hwg_buf *b, char operator_id[HWG_MATCH_ID_MAX + 1], const uint8_t **tmpl,
                   struct hwg_error *err)
{
	int rc = get_operator(b, operator_id, err);

	if (rc != 0)
		return rc;
	if (hwg_buf_len(b) != HWG_MATCH_DIM)
		return hwg_error_set(err, HWG_E_BAD_ARGS, "a template is %d bytes, not %zu",
		                     HWG_MATCH_DIM, hwg_buf_len(b));
	hwg_buf_get_view(b, HWG_MATCH_DIM, tmpl);
	return 0;
}

int
hwg_kh_open_encode(const char *operator_id, const uint8_t *blob, size_t len, struct hwg_buf *b)
{
	int rc = put_operator(b, operator_id);

	if (rc != 0)
		return rc;
	if (len > HWG_KH_BLOB_MAX)
		return HWG_E_TOO_LARGE;
	return hwg_buf_put_string(b, blob, len) != 0 ? HWG_E_TOO_LARGE : 0;
}

int
hwg_kh_open_decode(struct hwg_buf *b, char operator_id[HWG_MATCH_ID_MAX + 1], const uint8_t **blob,
                   size_t *len, struct hwg_error *err)
{
	int rc = get_operator(b, operator_id, err);

	if (rc != 0)
		return rc;
	if (hwg_buf_get_string_view(b, HWG_KH_BLOB_MAX, blob, len) != 0)
		return hwg_error_set(err, HWG_E_BAD_ARGS,
		                     "the sealed template is not a string of at most %d bytes",
		                     HWG_KH_BLOB_MAX);
	return leftover(b, "sealed template", err);
}

/* ---------------------------------------------------------------- certificates */

int
hwg_kh_summary_encode(const struct hwg_certcode_summary *s, struct hwg_buf *b)
{
	const char *texts[] = {s->kind, s->date, s->gw, s->orig};
	const size_t max[] = {HWG_CERTCODE_KIND_MAX, 10, HWG_CERTCODE_GW_MAX, HWG_CERTCODE_NO_MAX};
	int rc;

	if (strnlen(s->no, HWG_CERTCODE_NO_MAX + 1) > HWG_CERTCODE_NO_MAX)
		return HWG_E_INVALID;
	rc = hwg_buf_put_string(b, s->no, strlen(s->no)) | hwg_buf_put(b, s->doc, sizeof(s->doc));
	for (size_t i = 0; i < 4; i++) {
		if (strnlen(texts[i], max[i] + 1) > max[i])
			return HWG_E_INVALID;
		rc |= hwg_buf_put_string(b, texts[i], strlen(texts[i]));
	}
	return rc != 0 ? HWG_E_TOO_LARGE : 0;
}

int
hwg_kh_summary_decode(struct hwg_buf *b, struct hwg_certcode_summary *s, struct hwg_error *err)
{
	struct hwg_certcode_summary d;
	struct hwg_error why = {0};

	memset(&d, 0, sizeof(d));
	if (get_text(b, d.no, HWG_CERTCODE_NO_MAX) != 0 ||
	    hwg_buf_get(b, d.doc, sizeof(d.doc)) != 0 ||
	    get_text(b, d.kind, HWG_CERTCODE_KIND_MAX) != 0 || get_text(b, d.date, 10) != 0 ||
	    get_text(b, d.gw, HWG_CERTCODE_GW_MAX) != 0 ||
	    get_text(b, d.orig, HWG_CERTCODE_NO_MAX) != 0)
		return hwg_error_set(
		    err, HWG_E_BAD_ARGS,
		    "SEAL_SUMMARY is no, a 32-byte digest, kind, date, gw and orig, "
		    "each string within its size and without control bytes");
	if (leftover(b, "summary", err) != 0)
		return HWG_E_BAD_ARGS;
	if (hwg_certcode_summary_check(&d, &why) != 0)
		return hwg_error_set(err, HWG_E_BAD_ARGS, "the seal key signs summaries only: %s",
		                     why.message);
	*s = d;
	return 0;
}

int
hwg_kh_pdf_encode(const char *issuance_no, const uint8_t digest[HWG_KH_HASH_LEN], struct hwg_buf *b)
{
	size_t n = issuance_no != NULL ? strnlen(issuance_no, HWG_CERTCODE_NO_MAX + 1) : 0;

	if (n == 0 || n > HWG_CERTCODE_NO_MAX)
		return HWG_E_INVALID;
	return hwg_buf_put_string(b, issuance_no, n) | hwg_buf_put(b, digest, HWG_KH_HASH_LEN)
	           ? HWG_E_TOO_LARGE
	           : 0;
}

int
hwg_kh_pdf_decode(struct hwg_buf *b, char issuance_no[HWG_CERTCODE_NO_MAX + 1],
                  uint8_t digest[HWG_KH_HASH_LEN], struct hwg_error *err)
{
	char no[HWG_CERTCODE_NO_MAX + 1];

	if (get_text(b, no, HWG_CERTCODE_NO_MAX) != 0 || !hwg_certcode_number_valid(no, NULL))
		return hwg_error_set(err, HWG_E_BAD_ARGS,
		                     "SEAL_PDF starts with an issuance number "
		                     "(<gateway>-<YYYYMMDD>-<6 digits>)");
	if (hwg_buf_len(b) != HWG_KH_HASH_LEN)
		return hwg_error_set(err, HWG_E_BAD_ARGS, "a PDF's digest is %d bytes, not %zu",
		                     HWG_KH_HASH_LEN, hwg_buf_len(b));
	hwg_buf_get(b, digest, HWG_KH_HASH_LEN);
	memcpy(issuance_no, no, sizeof(no));
	return 0;
}

/* ---------------------------------------------------------------- INFO */

static int
put_key(struct hwg_buf *b, const struct hwg_keyholder_key *k)
{
	if (k->spki_len > HWG_KEYHOLDER_SPKI_MAX)
		return HWG_E_INVALID;
	return hwg_buf_put_u32be(b, (uint32_t)k->alg) | hwg_buf_put_string(b, k->spki, k->spki_len);
}

int
hwg_kh_info_encode(const struct hwg_keyholder_info *in, struct hwg_buf *b)
{
	int rc = hwg_buf_put_u8(b, in->present ? 1 : 0) | hwg_buf_put_u8(b, in->logged_in ? 1 : 0) |
	         hwg_buf_put_u64be(b, (uint64_t)in->session_reopens) |
	         put_text(b, in->label, sizeof(in->label) - 1) |
	         put_text(b, in->manufacturer, sizeof(in->manufacturer) - 1) |
	         put_text(b, in->model, sizeof(in->model) - 1) |
	         put_text(b, in->serial, sizeof(in->serial) - 1) | put_key(b, &in->response) |
	         put_key(b, &in->audit) | hwg_buf_put_u8(b, in->template_key ? 1 : 0) |
	         hwg_buf_put_u8(b, in->seal_key ? 1 : 0);

	if (rc == 0 && in->seal_key)
		rc = put_key(b, &in->seal);
	return rc != 0 ? HWG_E_INVALID : 0;
}

/* alg, then DER that parses as a public key of that algorithm. */
static int
get_key(struct hwg_buf *b, struct hwg_keyholder_key *k, int es256_only)
{
	const uint8_t *p, *der;
	EVP_PKEY *pk;
	uint32_t alg;
	size_t len;
	int ok;

	if (hwg_buf_get_u32be(b, &alg) != 0 ||
	    hwg_buf_get_string_view(b, HWG_KEYHOLDER_SPKI_MAX, &p, &len) != 0)
		return -1;
	k->alg = (int32_t)alg;
	if (k->alg != HWG_COSE_ES256 && (es256_only || k->alg != HWG_COSE_EDDSA))
		return -1;
	der = p;
	pk = d2i_PUBKEY(NULL, &der, (long)len);
	ok = pk != NULL && der == p + len && hwg_cose_alg_for_key(pk) == k->alg;
	EVP_PKEY_free(pk);
	if (!ok)
		return -1;
	memcpy(k->spki, p, len);
	k->spki_len = len;
	return 0;
}

int
hwg_kh_info_decode(struct hwg_buf *b, struct hwg_keyholder_info *out, struct hwg_error *err)
{
	struct hwg_keyholder_info in = {0};
	uint8_t present, logged_in, tkey, skey;
	uint64_t reopens;

	if (hwg_buf_get_u8(b, &present) != 0 || hwg_buf_get_u8(b, &logged_in) != 0 ||
	    hwg_buf_get_u64be(b, &reopens) != 0 ||
	    get_text(b, in.label, sizeof(in.label) - 1) != 0 ||
	    get_text(b, in.manufacturer, sizeof(in.manufacturer) - 1) != 0 ||
	    get_text(b, in.model, sizeof(in.model) - 1) != 0 ||
	    get_text(b, in.serial, sizeof(in.serial) - 1) != 0 ||
	    get_key(b, &in.response, 0) != 0 || get_key(b, &in.audit, 1) != 0 ||
	    hwg_buf_get_u8(b, &tkey) != 0 || hwg_buf_get_u8(b, &skey) != 0 || skey > 1 ||
	    (skey && get_key(b, &in.seal, 1) != 0) || hwg_buf_len(b) != 0 || present > 1 ||
	    logged_in > 1 || tkey > 1)
		return hwg_error_set(err, HWG_E_BAD_ENCODING, "malformed INFO from the keyholder");
	in.present = present;
	in.logged_in = logged_in;
	in.session_reopens = (unsigned long)reopens;
	in.template_key = tkey;
	in.seal_key = skey;
	*out = in;
	return 0;
}
