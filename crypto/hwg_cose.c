/*
 * hwg_cose.c — COSE_Sign1 for hwgw: the strict decoder that every request
 * and every response passes through, signature checks, and deterministic
 * encoding (see hwg_cose.h).  The decoder reads bytes from the network,
 * and whatever it lets through is trusted by the signature check that
 * follows, so it accepts exactly the envelope of gateway/api.cddl and
 * says precisely what was wrong with anything else.
 *
 * The envelope framing (tag, array, header buckets, byte strings) is
 * read by hand through hwg_buf: its shape is fixed, libcbor 0.8 refuses
 * the one-byte form of tag 18 (0xd2), and only a reader that knows where
 * the fourth element ends can tell trailing bytes from malformed input.
 * The protected header, whose content is open-ended CBOR, goes through
 * hwg_cbor_load (bounded pre-scan, then libcbor) and typed accessors.
 */
#include "hwg_cose.h"

#include <inttypes.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <stdlib.h>
#include <string.h>

#include "hwg_buf.h"
#include "hwg_cbor.h"
#include "hwg_secret.h"

#define ECDSA_DER_MAX 80 /* 72 for P-256: SEQUENCE of two 33-byte INTEGERs */

static const char SIGNATURE1[] = "Signature1";

/* The order n of the P-256 group, big-endian (SEC 2, secp256r1). */
static const uint8_t P256_ORDER[32] = {
    0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xbc, 0xe6, 0xfa, 0xad, 0xa7, 0x17, 0x9e, 0x84, 0xf3, 0xb9, 0xca, 0xc2, 0xfc, 0x63, 0x25, 0x51,
};

int
hwg_cose_alg_from_name(const char *name)
{
	if (name == NULL)
		return 0;
	if (strcmp(name, "ES256") == 0)
		return HWG_COSE_ES256;
	if (strcmp(name, "EdDSA") == 0)
		return HWG_COSE_EDDSA;
	return 0;
}

const char *
hwg_cose_alg_name(int alg)
{
	if (alg == HWG_COSE_ES256)
		return "ES256";
	if (alg == HWG_COSE_EDDSA)
		return "EdDSA";
	return NULL;
}

int
hwg_cose_alg_for_key(EVP_PKEY *key)
{
	char group[64];
	size_t len = 0;

	if (key == NULL)
		return 0;
	if (EVP_PKEY_is_a(key, "ED25519"))
		return HWG_COSE_EDDSA;
	if (!EVP_PKEY_is_a(key, "EC"))
		return 0;
	/* named curves only: a key with explicit parameters has no group name */
	if (EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group),
	                                   &len) != 1) {
		ERR_clear_error();
		return 0;
	}
	return OBJ_txt2nid(group) == NID_X9_62_prime256v1 ? HWG_COSE_ES256 : 0;
}

/* ------------------------------------------------------------ CBOR heads */

/* One CBOR item head (RFC 8949 §3.1). */
struct head {
	uint8_t initial; /* the initial byte, e.g. 0xf6 for nil */
	int major;
	int indefinite;
	uint64_t arg;
};

static const char *const major_names[8] = {
    "an unsigned integer",
    "a negative integer",
    "a byte string",
    "a text string",
    "an array",
    "a map",
    "a tag",
    "a simple value or float",
};

/* Read one well-formed head; -1 if b runs out or the head is malformed. */
static int
head_get(struct hwg_buf *b, struct head *h)
{
	uint8_t u8;
	uint16_t u16;
	uint32_t u32;
	uint64_t u64;
	int info;

	if (hwg_buf_get_u8(b, &h->initial) != 0)
		return -1;
	h->major = h->initial >> 5;
	h->indefinite = 0;
	info = h->initial & 0x1f;
	switch (info) {
	case 24:
		if (hwg_buf_get_u8(b, &u8) != 0)
			return -1;
		h->arg = u8;
		break;
	case 25:
		if (hwg_buf_get_u16be(b, &u16) != 0)
			return -1;
		h->arg = u16;
		break;
	case 26:
		if (hwg_buf_get_u32be(b, &u32) != 0)
			return -1;
		h->arg = u32;
		break;
	case 27:
		if (hwg_buf_get_u64be(b, &u64) != 0)
			return -1;
		h->arg = u64;
		break;
	case 28:
	case 29:
	case 30:
		return -1; /* reserved */
	case 31:
		/* indefinite length exists for strings, arrays and maps only; 0xff is "break" */
		if (h->major < 2 || h->major > 5)
			return -1;
		h->indefinite = 1;
		h->arg = 0;
		break;
	default:
		h->arg = (uint64_t)info;
		break;
	}
	return 0;
}

/* Append a head in its shortest form (deterministic encoding, RFC 8949 §4.2.1). */
static int
head_put(struct hwg_buf *b, int major, uint64_t arg)
{
	uint8_t mt = (uint8_t)(major << 5);
	int r;

	if (arg < 24)
		return hwg_buf_put_u8(b, (uint8_t)(mt | arg));
	if (arg <= UINT8_MAX) {
		if ((r = hwg_buf_put_u8(b, mt | 24)) != 0)
			return r;
		return hwg_buf_put_u8(b, (uint8_t)arg);
	}
	if (arg <= UINT16_MAX) {
		if ((r = hwg_buf_put_u8(b, mt | 25)) != 0)
			return r;
		return hwg_buf_put_u16be(b, (uint16_t)arg);
	}
	if (arg <= UINT32_MAX) {
		if ((r = hwg_buf_put_u8(b, mt | 26)) != 0)
			return r;
		return hwg_buf_put_u32be(b, (uint32_t)arg);
	}
	if ((r = hwg_buf_put_u8(b, mt | 27)) != 0)
		return r;
	return hwg_buf_put_u64be(b, arg);
}

/* A byte string head and its bytes: the head was read, the content is next. */
static int
bstr_body(struct hwg_buf *b, const struct head *h, const char *what, const uint8_t **p, size_t *len,
          struct hwg_error *err)
{
	if (h->major != 2)
		return hwg_error_set(err, HWG_E_BAD_ENCODING, "%s is %s, not a byte string", what,
		                     major_names[h->major]);
	if (h->indefinite)
		return hwg_error_set(err, HWG_E_BAD_ENCODING,
		                     "%s is an indefinite-length byte string", what);
	if (h->arg > hwg_buf_len(b))
		return hwg_error_set(err, HWG_E_BAD_ENCODING,
		                     "%s claims %" PRIu64 " bytes but only %zu remain", what,
		                     h->arg, hwg_buf_len(b));
	*len = (size_t)h->arg;
	return hwg_buf_get_view(b, *len, p) == 0
	           ? 0
	           : hwg_error_set(err, HWG_E_BAD_ENCODING, "%s is truncated", what);
}

/* Read the head of the next element, naming it if the message ends first. */
static int
element_head(struct hwg_buf *b, struct head *h, const char *what, struct hwg_error *err)
{
	if (head_get(b, h) != 0)
		return hwg_error_set(err, HWG_E_BAD_ENCODING,
		                     "COSE_Sign1 truncated or malformed at the %s", what);
	return 0;
}

/* ---------------------------------------------------------------- decode */

static const char *
item_kind(const cbor_item_t *it)
{
	switch (cbor_typeof(it)) {
	case CBOR_TYPE_UINT:
		return major_names[0];
	case CBOR_TYPE_NEGINT:
		return major_names[1];
	case CBOR_TYPE_BYTESTRING:
		return major_names[2];
	case CBOR_TYPE_STRING:
		return major_names[3];
	case CBOR_TYPE_ARRAY:
		return major_names[4];
	case CBOR_TYPE_MAP:
		return major_names[5];
	case CBOR_TYPE_TAG:
		return major_names[6];
	default:
		return major_names[7];
	}
}

/* Decimal text of an integer item (uint or negint, the whole 65-bit range). */
static void
int_text(const cbor_item_t *it, char *buf, size_t len)
{
	uint64_t v = cbor_get_int(it);

	if (cbor_isa_uint(it))
		snprintf(buf, len, "%" PRIu64, v);
	else if (v < UINT64_MAX)
		snprintf(buf, len, "-%" PRIu64, v + 1);
	else
		snprintf(buf, len, "-18446744073709551616");
}

static int
is_int(const cbor_item_t *it)
{
	return cbor_isa_uint(it) || cbor_isa_negint(it);
}

static int
is_uint_eq(const cbor_item_t *it, uint64_t v)
{
	return cbor_isa_uint(it) && cbor_get_int(it) == v;
}

/* What a protected header may hold: alg alone (api.cddl), or alg and kid (documents, codes). */
struct prot_want {
	int kid;               /* 1: kid (4) is required; 0: refused */
	const uint8_t **kid_p; /* out: a view of the kid's bytes in the map */
	size_t *kid_len;
};

/* One label's value: alg (1) or, when wanted, kid (4); a reason otherwise. */
static int
protected_label(const cbor_item_t *k, const cbor_item_t *v, const struct prot_want *w,
                const cbor_item_t **algv, const cbor_item_t **kidv, struct hwg_error *err)
{
	char num[32];

	if (!is_int(k))
		return hwg_error_set(err, HWG_E_BAD_ENCODING,
		                     "protected header label is %s, not an integer", item_kind(k));
	if (is_uint_eq(k, 2))
		return hwg_error_set(err, HWG_E_BAD_ENCODING,
		                     "protected header has crit (2): no critical "
		                     "extension is understood");
	if (is_uint_eq(k, 1) || (w->kid && is_uint_eq(k, 4))) {
		const cbor_item_t **slot = is_uint_eq(k, 1) ? algv : kidv;

		if (*slot != NULL)
			return hwg_error_set(err, HWG_E_BAD_ENCODING,
			                     "protected header has the key %s twice",
			                     is_uint_eq(k, 1) ? "1 (alg)" : "4 (kid)");
		*slot = v;
		return 0;
	}
	int_text(k, num, sizeof(num));
	return hwg_error_set(err, HWG_E_BAD_ENCODING,
	                     "protected header label %s is not allowed (only alg (1)%s)", num,
	                     w->kid ? " and kid (4)" : "");
}

/* kid (4): a byte string of 1 to HWG_COSE_KID_MAX bytes. */
static int
protected_kid(const cbor_item_t *kidv, const struct prot_want *w, struct hwg_error *err)
{
	if (kidv == NULL)
		return hwg_error_set(err, HWG_E_BAD_ENCODING, "protected header has no kid (4)");
	if (!cbor_isa_bytestring(kidv) || !cbor_bytestring_is_definite(kidv))
		return hwg_error_set(err, HWG_E_BAD_ENCODING,
		                     "kid (4) is %s, not a definite byte string", item_kind(kidv));
	if (cbor_bytestring_length(kidv) == 0 || cbor_bytestring_length(kidv) > HWG_COSE_KID_MAX)
		return hwg_error_set(err, HWG_E_BAD_ENCODING, "kid (4) is %zu bytes, not 1 to %d",
		                     cbor_bytestring_length(kidv), HWG_COSE_KID_MAX);
	*w->kid_p = cbor_bytestring_handle(kidv);
	*w->kid_len = cbor_bytestring_length(kidv);
	return 0;
}

/*
 * The protected header map, checked item by item: integer labels only,
 * no crit (2), no repeated key, and exactly the labels allowed: alg (1),
 * holding -7 or -8, and kid (4) when w asks for it.
 */
static int
protected_check(const cbor_item_t *map, const struct prot_want *w, int *alg, struct hwg_error *err)
{
	const struct cbor_pair *pairs;
	const cbor_item_t *algv = NULL, *kidv = NULL;
	char num[32];
	size_t n;
	int rc;

	if (!cbor_isa_map(map))
		return hwg_error_set(err, HWG_E_BAD_ENCODING,
		                     "protected header holds %s, not a map", item_kind(map));
	if (!cbor_map_is_definite(map))
		return hwg_error_set(err, HWG_E_BAD_ENCODING,
		                     "protected header map is indefinite-length");
	pairs = cbor_map_handle(map);
	n = cbor_map_size(map);
	for (size_t i = 0; i < n; i++) {
		if (pairs[i].key == NULL || pairs[i].value == NULL)
			return hwg_error_set(err, HWG_E_BAD_ENCODING,
			                     "protected header map is incomplete");
		if ((rc = protected_label(pairs[i].key, pairs[i].value, w, &algv, &kidv, err)) != 0)
			return rc;
	}
	if (algv == NULL)
		return hwg_error_set(err, HWG_E_BAD_ENCODING, "protected header has no alg (1)");
	if (!is_int(algv))
		return hwg_error_set(err, HWG_E_BAD_ENCODING, "alg (1) is %s, not an integer",
		                     item_kind(algv));
	/* -7 and -8 are the negative integers with arguments 6 and 7 */
	if (!cbor_isa_negint(algv) || (cbor_get_int(algv) != 6 && cbor_get_int(algv) != 7)) {
		int_text(algv, num, sizeof(num));
		return hwg_error_set(err, HWG_E_ALG_NOT_ALLOWED,
		                     "algorithm %s is not allowed (only ES256 (-7) and EdDSA (-8))",
		                     num);
	}
	if (w->kid && (rc = protected_kid(kidv, w, err)) != 0)
		return rc;
	*alg = -1 - (int)cbor_get_int(algv);
	return 0;
}

/* The protected header's bytes: alg into m, and the kid (copied) when want_kid. */
static int
protected_decode(const uint8_t *p, size_t len, int want_kid, struct hwg_cose_sign1 *m,
                 struct hwg_error *err)
{
	const char *why = "not CBOR";
	const uint8_t *kid = NULL;
	size_t kid_len = 0;
	struct prot_want w = {want_kid, &kid, &kid_len};
	cbor_item_t *map;
	int rc;

	if (len == 0)
		return hwg_error_set(err, HWG_E_BAD_ENCODING,
		                     "protected header is empty: alg (1) must be protected");
	if ((map = hwg_cbor_load(p, len, &why)) == NULL)
		return hwg_error_set(err, HWG_E_BAD_ENCODING,
		                     "protected header is not one well-formed CBOR item: %s", why);
	rc = protected_check(map, &w, &m->alg, err);
	if (rc == 0 && want_kid) {
		if ((m->kid = malloc(kid_len)) == NULL)
			rc = hwg_error_set(err, HWG_E_NOMEM, "out of memory");
		else
			memcpy(m->kid, kid, kid_len);
		m->kid_len = kid_len;
	}
	cbor_decref(&map);
	return rc;
}

static uint8_t *
dup_bytes(const uint8_t *p, size_t len)
{
	uint8_t *d = malloc(len > 0 ? len : 1);

	if (d != NULL && len > 0)
		memcpy(d, p, len);
	return d;
}

/* The whole message in b; on success m holds copies of the parts. */
/* Tag 18 (required: api.cddl's #6.18), then a definite array of 4. */
static int
envelope_head(struct hwg_buf *b, struct hwg_error *err)
{
	struct head h;
	int rc;

	if (head_get(b, &h) != 0)
		return hwg_error_set(err, HWG_E_BAD_ENCODING,
		                     "not CBOR: the first item head is truncated or malformed");
	if (h.major == 4)
		return hwg_error_set(err, HWG_E_BAD_ENCODING,
		                     "COSE_Sign1 without tag 18 (api.cddl: #6.18)");
	if (h.major == 6 && h.arg != HWG_COSE_TAG_SIGN1)
		return hwg_error_set(err, HWG_E_BAD_ENCODING,
		                     "tag %" PRIu64 " is not the COSE_Sign1 tag (18)", h.arg);
	if (h.major == 6 && (rc = element_head(b, &h, "array after the tag", err)) != 0)
		return rc;
	if (h.major == 6)
		return hwg_error_set(err, HWG_E_BAD_ENCODING,
		                     "COSE_Sign1 has a second tag inside tag 18");
	if (h.major != 4)
		return hwg_error_set(err, HWG_E_BAD_ENCODING,
		                     "not a COSE_Sign1: %s where a 4-element array belongs",
		                     major_names[h.major]);
	if (h.indefinite)
		return hwg_error_set(err, HWG_E_BAD_ENCODING,
		                     "COSE_Sign1 array is indefinite-length");
	if (h.arg != 4)
		return hwg_error_set(err, HWG_E_BAD_ENCODING,
		                     "COSE_Sign1 array has %" PRIu64 " elements, not 4", h.arg);
	return 0;
}

static int
frame_decode(struct hwg_buf *b, int want_kid, struct hwg_cose_sign1 *m, struct hwg_error *err)
{
	const uint8_t *prot, *payload, *sig;
	size_t prot_len, payload_len, sig_len;
	struct head h;
	int rc;

	if ((rc = envelope_head(b, err)) != 0 ||
	    (rc = element_head(b, &h, "protected header", err)) != 0 ||
	    (rc = bstr_body(b, &h, "protected header", &prot, &prot_len, err)) != 0 ||
	    (rc = protected_decode(prot, prot_len, want_kid, m, err)) != 0)
		return rc;

	/* api.cddl: the unprotected bucket is {}; its content is not signed */
	if ((rc = element_head(b, &h, "unprotected header", err)) != 0)
		return rc;
	if (h.major != 5)
		return hwg_error_set(err, HWG_E_BAD_ENCODING, "unprotected header is %s, not a map",
		                     major_names[h.major]);
	if (h.indefinite || h.arg != 0)
		return hwg_error_set(err, HWG_E_BAD_ENCODING,
		                     "unprotected header is not the empty map {}");

	if ((rc = element_head(b, &h, "payload", err)) != 0)
		return rc;
	if (h.initial == 0xf6)
		return hwg_error_set(err, HWG_E_BAD_ENCODING,
		                     "payload is nil: detached payloads are refused");
	if ((rc = bstr_body(b, &h, "payload", &payload, &payload_len, err)) != 0)
		return rc;

	if ((rc = element_head(b, &h, "signature", err)) != 0)
		return rc;
	if (h.major == 2 && !h.indefinite && h.arg != HWG_COSE_SIG_LEN)
		return hwg_error_set(err, HWG_E_BAD_ENCODING,
		                     "signature is %" PRIu64 " bytes, not %d", h.arg,
		                     HWG_COSE_SIG_LEN);
	if ((rc = bstr_body(b, &h, "signature", &sig, &sig_len, err)) != 0)
		return rc;

	if (hwg_buf_len(b) != 0)
		return hwg_error_set(err, HWG_E_BAD_ENCODING, "trailing bytes after COSE_Sign1");

	m->protected_bytes = dup_bytes(prot, prot_len);
	m->payload = dup_bytes(payload, payload_len);
	if (m->protected_bytes == NULL || m->payload == NULL)
		return hwg_error_set(err, HWG_E_NOMEM, "out of memory");
	m->protected_len = prot_len;
	m->payload_len = payload_len;
	memcpy(m->sig, sig, HWG_COSE_SIG_LEN);
	return 0;
}

static int
sign1_decode(const uint8_t *msg, size_t len, int want_kid, struct hwg_cose_sign1 *out,
             struct hwg_error *err)
{
	struct hwg_cose_sign1 m;
	struct hwg_buf *b;
	int rc;

	if (out == NULL || (msg == NULL && len > 0))
		return hwg_error_set(err, HWG_E_INVALID, "no message or no output");
	if (len == 0)
		return hwg_error_set(err, HWG_E_BAD_ENCODING, "empty message");
	if ((b = hwg_buf_from(msg, len)) == NULL)
		return hwg_error_set(err, HWG_E_NOMEM, "out of memory");
	memset(&m, 0, sizeof(m));
	rc = frame_decode(b, want_kid, &m, err);
	hwg_buf_free(b);
	if (rc != 0) {
		hwg_cose_sign1_clear(&m);
		return rc;
	}
	*out = m;
	return 0;
}

int
hwg_cose_sign1_decode(const uint8_t *msg, size_t len, struct hwg_cose_sign1 *out,
                      struct hwg_error *err)
{
	return sign1_decode(msg, len, 0, out, err);
}

int
hwg_cose_sign1_decode_kid(const uint8_t *msg, size_t len, struct hwg_cose_sign1 *out,
                          struct hwg_error *err)
{
	return sign1_decode(msg, len, 1, out, err);
}

void
hwg_cose_sign1_clear(struct hwg_cose_sign1 *m)
{
	if (m == NULL)
		return;
	free(m->protected_bytes);
	free(m->kid);
	if (m->payload != NULL)
		hwg_wipe(m->payload, m->payload_len); /* request arguments may carry a PIN */
	free(m->payload);
	memset(m, 0, sizeof(*m));
}

/* ---------------------------------------------------------------- encode */

/* Copy what b holds into a malloc'd block for the caller. */
static int
buf_take(const struct hwg_buf *b, uint8_t **out, size_t *out_len)
{
	size_t n = hwg_buf_len(b);
	uint8_t *p = malloc(n > 0 ? n : 1);

	if (p == NULL)
		return HWG_E_NOMEM;
	if (n > 0)
		memcpy(p, hwg_buf_ptr(b), n);
	*out = p;
	*out_len = n;
	return 0;
}

/* A definite byte string: shortest head, then the bytes. */
static int
bstr_put(struct hwg_buf *b, const uint8_t *p, size_t len)
{
	int r;

	if ((r = head_put(b, 2, len)) != 0)
		return r;
	return hwg_buf_put(b, p, len);
}

int
hwg_cose_sig_structure(const uint8_t *prot, size_t prot_len, const uint8_t *payload,
                       size_t payload_len, uint8_t **out, size_t *out_len)
{
	const size_t overhead = 32; /* heads and "Signature1" */
	struct hwg_buf *b;
	int r;

	if (out == NULL || out_len == NULL || (prot == NULL && prot_len > 0) ||
	    (payload == NULL && payload_len > 0))
		return HWG_E_INVALID;
	if (prot_len > SIZE_MAX - overhead || payload_len > SIZE_MAX - overhead - prot_len)
		return HWG_E_TOO_LARGE;
	if ((b = hwg_buf_new(overhead + prot_len + payload_len)) == NULL)
		return HWG_E_NOMEM;
	/* ["Signature1", protected, external_aad = h'', payload] */
	if ((r = head_put(b, 4, 4)) != 0 || (r = head_put(b, 3, sizeof(SIGNATURE1) - 1)) != 0 ||
	    (r = hwg_buf_put(b, SIGNATURE1, sizeof(SIGNATURE1) - 1)) != 0 ||
	    (r = bstr_put(b, prot, prot_len)) != 0 || (r = bstr_put(b, NULL, 0)) != 0 ||
	    (r = bstr_put(b, payload, payload_len)) != 0 || (r = buf_take(b, out, out_len)) != 0) {
		hwg_buf_free(b);
		return r == HWG_E_TOO_LARGE ? HWG_E_INTERNAL : r;
	}
	hwg_buf_free(b);
	return 0;
}

/* The protected header {1: alg} or {1: alg, 4: kid}, deterministically (1 sorts before 4). */
static int
protected_put(struct hwg_buf *b, int alg, const uint8_t *kid, size_t kid_len)
{
	int r;

	if ((r = head_put(b, 5, kid != NULL ? 2 : 1)) != 0 || (r = head_put(b, 0, 1)) != 0 ||
	    (r = head_put(b, 1, (uint64_t)(-1 - alg))) != 0)
		return r;
	if (kid == NULL)
		return 0;
	if ((r = head_put(b, 0, 4)) != 0)
		return r;
	return bstr_put(b, kid, kid_len);
}

static int
sign1_encode(int alg, const uint8_t *kid, size_t kid_len, const uint8_t *payload,
             size_t payload_len, hwg_cose_signer_fn sign, void *sign_ctx, uint8_t **out,
             size_t *out_len, struct hwg_error *err)
{
	const size_t overhead = 96 + HWG_COSE_KID_MAX; /* tag, heads, protected header, signature */
	uint8_t sig[HWG_COSE_SIG_LEN], *tbs = NULL;
	size_t tbs_len = 0;
	struct hwg_buf *b, *prot;
	int rc;

	if (alg != HWG_COSE_ES256 && alg != HWG_COSE_EDDSA)
		return hwg_error_set(err, HWG_E_ALG_NOT_ALLOWED, "algorithm %d is not supported",
		                     alg);
	if (sign == NULL || out == NULL || out_len == NULL || (payload == NULL && payload_len > 0))
		return hwg_error_set(err, HWG_E_INVALID, "no signer, payload or output");
	if (payload_len > SIZE_MAX - overhead)
		return hwg_error_set(err, HWG_E_TOO_LARGE, "payload too large");
	if ((prot = hwg_buf_new(8 + HWG_COSE_KID_MAX)) == NULL)
		return hwg_error_set(err, HWG_E_NOMEM, "out of memory");
	if (protected_put(prot, alg, kid, kid_len) != 0)
		rc = hwg_error_set(err, HWG_E_INTERNAL, "cannot encode the protected header");
	else if ((rc = hwg_cose_sig_structure(hwg_buf_ptr(prot), hwg_buf_len(prot), payload,
	                                      payload_len, &tbs, &tbs_len)) != 0)
		rc = hwg_error_set(err, rc, "cannot build the Sig_structure");
	else
		rc = sign(sign_ctx, alg, tbs, tbs_len, sig, err);
	free(tbs);
	if (rc != 0 || (b = hwg_buf_new(overhead + payload_len)) == NULL) {
		hwg_buf_free(prot);
		return rc != 0 ? rc : hwg_error_set(err, HWG_E_NOMEM, "out of memory");
	}
	/* 18([protected, {}, payload, signature]) */
	if ((rc = head_put(b, 6, HWG_COSE_TAG_SIGN1)) != 0 || (rc = head_put(b, 4, 4)) != 0 ||
	    (rc = bstr_put(b, hwg_buf_ptr(prot), hwg_buf_len(prot))) != 0 ||
	    (rc = head_put(b, 5, 0)) != 0 || (rc = bstr_put(b, payload, payload_len)) != 0 ||
	    (rc = bstr_put(b, sig, sizeof(sig))) != 0 || (rc = buf_take(b, out, out_len)) != 0)
		rc = hwg_error_set(err, rc == HWG_E_NOMEM ? HWG_E_NOMEM : HWG_E_INTERNAL,
		                   "cannot encode COSE_Sign1");
	hwg_buf_free(prot);
	hwg_buf_free(b);
	return rc;
}

int
hwg_cose_sign1_encode(int alg, const uint8_t *payload, size_t payload_len, hwg_cose_signer_fn sign,
                      void *sign_ctx, uint8_t **out, size_t *out_len, struct hwg_error *err)
{
	return sign1_encode(alg, NULL, 0, payload, payload_len, sign, sign_ctx, out, out_len, err);
}

int
hwg_cose_sign1_encode_kid(int alg, const uint8_t *kid, size_t kid_len, const uint8_t *payload,
                          size_t payload_len, hwg_cose_signer_fn sign, void *sign_ctx,
                          uint8_t **out, size_t *out_len, struct hwg_error *err)
{
	if (kid == NULL || kid_len == 0 || kid_len > HWG_COSE_KID_MAX)
		return hwg_error_set(err, HWG_E_INVALID, "a kid is 1 to %d bytes",
		                     HWG_COSE_KID_MAX);
	return sign1_encode(alg, kid, kid_len, payload, payload_len, sign, sign_ctx, out, out_len,
	                    err);
}

/* -------------------------------------------------------- ECDSA encodings */

/* 1 if the 32 big-endian bytes are a P-256 scalar in [1, n-1]. */
static int
p256_scalar_ok(const uint8_t x[32])
{
	static const uint8_t zero[32];

	return memcmp(x, zero, 32) != 0 && memcmp(x, P256_ORDER, 32) < 0;
}

int
hwg_ecdsa_raw_to_der(const uint8_t raw[64], uint8_t **der, size_t *der_len)
{
	ECDSA_SIG *s;
	BIGNUM *r = NULL, *sv = NULL;
	unsigned char *p = NULL;
	int n;

	if (raw == NULL || der == NULL || der_len == NULL)
		return HWG_E_INVALID;
	if (!p256_scalar_ok(raw) || !p256_scalar_ok(raw + 32))
		return HWG_E_BAD_ENCODING;
	if ((s = ECDSA_SIG_new()) == NULL || (r = BN_bin2bn(raw, 32, NULL)) == NULL ||
	    (sv = BN_bin2bn(raw + 32, 32, NULL)) == NULL || ECDSA_SIG_set0(s, r, sv) != 1) {
		ECDSA_SIG_free(s);
		BN_free(r);
		BN_free(sv);
		return HWG_E_NOMEM;
	}
	/* s owns r and sv now */
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
	unsigned char *again = NULL;
	const BIGNUM *r, *sv;
	uint8_t tmp[64];
	ECDSA_SIG *s;
	int n, ok;

	if (der == NULL || raw == NULL || der_len == 0 || der_len > ECDSA_DER_MAX)
		return HWG_E_BAD_ENCODING;
	if ((s = d2i_ECDSA_SIG(NULL, &p, (long)der_len)) == NULL) {
		ERR_clear_error();
		return HWG_E_BAD_ENCODING;
	}
	/* all bytes used, and DER exactly: re-encoding gives the same bytes */
	n = i2d_ECDSA_SIG(s, &again);
	ok = p == der + der_len && n == (int)der_len;
	ok = ok && memcmp(again, der, der_len) == 0;
	OPENSSL_free(again);
	if (ok) {
		ECDSA_SIG_get0(s, &r, &sv);
		ok = !BN_is_negative(r) && !BN_is_negative(sv) && BN_bn2binpad(r, tmp, 32) == 32 &&
		     BN_bn2binpad(sv, tmp + 32, 32) == 32 && p256_scalar_ok(tmp) &&
		     p256_scalar_ok(tmp + 32);
	}
	ECDSA_SIG_free(s);
	if (!ok) {
		ERR_clear_error();
		return HWG_E_BAD_ENCODING;
	}
	memcpy(raw, tmp, sizeof(tmp));
	return 0;
}

/* ---------------------------------------------------------------- verify */

int
hwg_cose_sign1_verify(const struct hwg_cose_sign1 *m, EVP_PKEY *pub, struct hwg_error *err)
{
	EVP_MD_CTX *md = NULL;
	uint8_t *tbs = NULL, *der = NULL;
	size_t tbs_len = 0, der_len = 0;
	int rc, key_alg, ok = 0;

	if (m == NULL || pub == NULL)
		return hwg_error_set(err, HWG_E_INVALID, "no message or no key");
	if (m->alg != HWG_COSE_ES256 && m->alg != HWG_COSE_EDDSA)
		return hwg_error_set(err, HWG_E_ALG_NOT_ALLOWED, "algorithm %d is not allowed",
		                     m->alg);
	if ((key_alg = hwg_cose_alg_for_key(pub)) != m->alg)
		return hwg_error_set(err, HWG_E_ALG_NOT_ALLOWED,
		                     "message is signed with %s but the key is %s",
		                     hwg_cose_alg_name(m->alg),
		                     key_alg == HWG_COSE_ES256   ? "an EC P-256 key"
		                     : key_alg == HWG_COSE_EDDSA ? "an Ed25519 key"
		                                                 : "neither P-256 nor Ed25519");
	if (m->alg == HWG_COSE_ES256 && hwg_ecdsa_raw_to_der(m->sig, &der, &der_len) != 0)
		return hwg_error_set(
		    err, HWG_E_BAD_SIGNATURE,
		    "ES256 signature has r or s zero or not below the group order");
	if ((rc = hwg_cose_sig_structure(m->protected_bytes, m->protected_len, m->payload,
	                                 m->payload_len, &tbs, &tbs_len)) != 0) {
		OPENSSL_free(der);
		return hwg_error_set(err, rc, "cannot build the Sig_structure");
	}
	if ((md = EVP_MD_CTX_new()) != NULL) {
		if (m->alg == HWG_COSE_EDDSA)
			ok = EVP_DigestVerifyInit(md, NULL, NULL, NULL, pub) == 1 &&
			     EVP_DigestVerify(md, m->sig, HWG_COSE_SIG_LEN, tbs, tbs_len) == 1;
		else
			ok = EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, pub) == 1 &&
			     EVP_DigestVerify(md, der, der_len, tbs, tbs_len) == 1;
	}
	EVP_MD_CTX_free(md);
	OPENSSL_free(der);
	hwg_wipe(tbs, tbs_len); /* it holds the payload, which may carry a PIN */
	free(tbs);
	if (md == NULL)
		return hwg_error_set(err, HWG_E_NOMEM, "out of memory");
	if (!ok) {
		ERR_clear_error();
		return hwg_error_set(err, HWG_E_BAD_SIGNATURE, "%s signature does not verify",
		                     hwg_cose_alg_name(m->alg));
	}
	return 0;
}

/* ---------------------------------------------------------------- signer */

int
hwg_cose_evp_signer(void *ctx, int alg, const uint8_t *tbs, size_t tbs_len,
                    uint8_t sig[HWG_COSE_SIG_LEN], struct hwg_error *err)
{
	EVP_PKEY *key = ctx;
	EVP_MD_CTX *md;
	uint8_t der[ECDSA_DER_MAX], raw[HWG_COSE_SIG_LEN];
	size_t len;
	int ok = 0;

	if (key == NULL || sig == NULL || (tbs == NULL && tbs_len > 0))
		return hwg_error_set(err, HWG_E_INVALID, "no key, input or output to sign with");
	if ((alg != HWG_COSE_ES256 && alg != HWG_COSE_EDDSA) || hwg_cose_alg_for_key(key) != alg)
		return hwg_error_set(err, HWG_E_ALG_NOT_ALLOWED,
		                     "the signing key cannot make algorithm %d", alg);
	if ((md = EVP_MD_CTX_new()) == NULL)
		return hwg_error_set(err, HWG_E_NOMEM, "out of memory");
	if (alg == HWG_COSE_EDDSA) {
		len = sizeof(raw);
		ok = EVP_DigestSignInit(md, NULL, NULL, NULL, key) == 1 &&
		     EVP_DigestSign(md, raw, &len, tbs, tbs_len) == 1 && len == sizeof(raw);
	} else {
		/* DER ECDSA-Sig-Value, then r||s each left-padded to 32 bytes */
		len = sizeof(der);
		ok = EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, key) == 1 &&
		     EVP_DigestSign(md, der, &len, tbs, tbs_len) == 1 &&
		     hwg_ecdsa_der_to_raw(der, len, raw) == 0;
	}
	EVP_MD_CTX_free(md);
	if (!ok) {
		ERR_clear_error();
		return hwg_error_set(err, HWG_E_INTERNAL, "%s signing failed",
		                     hwg_cose_alg_name(alg));
	}
	memcpy(sig, raw, sizeof(raw));
	return 0;
}
