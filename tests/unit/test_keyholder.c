/*
 * test_keyholder.c — the keyholder against a real SoftHSM2 token, through
 * the privileged side's client (hwg_keyholder.h): INFO, responses signed
 * with ES256 and EdDSA keys and verified with INFO's public key, what the
 * response key refuses to sign (and that the keyholder answers the next
 * request), requests of no known type or shape, an audit checkpoint that
 * hwg_audit_verify accepts, templates sealed and opened, certificates'
 * summaries and PDFs sealed and checked with INFO's seal key (and what
 * the seal key refuses, and a token without one), concurrent callers,
 * start failures, and that the module is mapped in the keyholder and not
 * here.  Its faults (killed, probe, token away) are in
 * test_keyholder_fault.c.
 */
#include <openssl/sha.h>
#include <pthread.h>
#include <sys/wait.h>

#include "hwg_audit.h"
#include "hwg_kh_proto.h"
#include "hwg_store.h"
#include "khenv.h"
#include "testfiles.h"

static void
test_info(void)
{
	struct kh_ends seen = {0};
	struct hwg_keyholder *k = kh_start("hwgw-response", &seen);
	struct hwg_keyholder_info in;
	struct hwg_error err = {0};
	EVP_PKEY *pub = NULL, *pem = read_pem(kh_dir, "gateway-response.pub.pem"), *apub = NULL,
	         *apem = read_pem(kh_dir, "gateway-audit.pub.pem"), *spub = NULL,
	         *spem = read_pem(kh_dir, "gateway-seal.pub.pem");
	struct hwg_keyholder_key seal;

	CHECK(k != NULL);
	if (k == NULL)
		return;
	CHECK(hwg_keyholder_pid(k) > 0);
	CHECK_EQ_INT(hwg_keyholder_info(k, &in, &err), 0);
	CHECK_EQ_STR(in.label, KH_TOKEN);
	CHECK_EQ_STR(in.manufacturer, "SoftHSM project");
	CHECK_EQ_INT(in.present, 1);
	CHECK_EQ_INT(in.logged_in, 1);
	CHECK_EQ_INT(in.session_reopens, 0);
	CHECK_EQ_INT(in.template_key, 1);
	CHECK_EQ_INT(in.response.alg, HWG_COSE_ES256);
	CHECK_EQ_INT(in.audit.alg, HWG_COSE_ES256);
	CHECK_EQ_INT(hwg_keyholder_response_alg(k), HWG_COSE_ES256);
	pub = hwg_keyholder_key_public(&in.response);
	apub = hwg_keyholder_key_public(&in.audit);
	/* the keys hsm-init exported */
	CHECK(pub != NULL && pem != NULL && EVP_PKEY_eq(pub, pem) == 1);
	CHECK(apub != NULL && apem != NULL && EVP_PKEY_eq(apub, apem) == 1);
	/* the seal key, its own */
	CHECK_EQ_INT(in.seal_key, 1);
	CHECK_EQ_INT(in.seal.alg, HWG_COSE_ES256);
	spub = hwg_keyholder_key_public(&in.seal);
	CHECK(spub != NULL && spem != NULL && EVP_PKEY_eq(spub, spem) == 1);
	CHECK(spub != NULL && EVP_PKEY_eq(spub, pub) != 1 && EVP_PKEY_eq(spub, apub) != 1);
	CHECK_EQ_INT(hwg_keyholder_seal_key(k, &seal), 0);
	CHECK(seal.spki_len == in.seal.spki_len &&
	      memcmp(seal.spki, in.seal.spki, seal.spki_len) == 0);
	EVP_PKEY_free(spub);
	EVP_PKEY_free(spem);
	EVP_PKEY_free(pub);
	EVP_PKEY_free(pem);
	EVP_PKEY_free(apub);
	EVP_PKEY_free(apem);
	hwg_keyholder_stop(k);
	CHECK_EQ_INT(seen.count, 0); /* a stop is no end to report */
}

/* The module lives in the keyholder only. */
static void
test_module_only_in_keyholder(void)
{
	struct kh_ends seen = {0};
	struct hwg_keyholder *k = kh_start("hwgw-response", &seen);
	const char *name =
	    strrchr(kh_module, '/') != NULL ? strrchr(kh_module, '/') + 1 : kh_module;

	CHECK(k != NULL);
	if (k == NULL)
		return;
	CHECK_EQ_INT(kh_maps_have(hwg_keyholder_pid(k), name), 1);
	CHECK_EQ_INT(kh_maps_have(0, name), 0);
	CHECK_EQ_INT(kh_maps_have(0, "libsofthsm2"), 0);
	hwg_keyholder_stop(k);
}

static void
sign_both_kinds(struct hwg_keyholder *k)
{
	struct hwg_keyholder_info in;
	struct hwg_error err = {0};
	struct hwg_cose_sign1 m;
	uint8_t *payload, *msg = NULL;
	size_t len = 0, msg_len = 0;
	EVP_PKEY *pub;

	CHECK_EQ_INT(kh_sign_verify(k, &err), 0);
	/* an error response, with tries */
	CHECK_EQ_INT(hwg_keyholder_info(k, &in, &err), 0);
	payload = kh_response(0, 2, &len);
	CHECK_EQ_INT(hwg_cose_sign1_encode(hwg_keyholder_response_alg(k), payload, len,
	                                   hwg_keyholder_sign_response, k, &msg, &msg_len, &err),
	             0);
	CHECK_EQ_INT(hwg_cose_sign1_decode(msg, msg_len, &m, &err), 0);
	pub = hwg_keyholder_key_public(&in.response);
	CHECK(pub != NULL && hwg_cose_sign1_verify(&m, pub, &err) == 0);
	/* changed, it does not verify */
	m.payload[m.payload_len - 1] ^= 1;
	CHECK(pub != NULL && hwg_cose_sign1_verify(&m, pub, &err) == HWG_E_BAD_SIGNATURE);
	EVP_PKEY_free(pub);
	hwg_cose_sign1_clear(&m);
	free(msg);
	free(payload);
}

static void
test_sign_es256(void)
{
	struct kh_ends seen = {0};
	struct hwg_keyholder *k = kh_start("hwgw-response", &seen);

	CHECK(k != NULL);
	if (k == NULL)
		return;
	sign_both_kinds(k);
	hwg_keyholder_stop(k);
}

static uint8_t *
map_bytes(cbor_item_t *m, size_t *len)
{
	unsigned char *out = NULL;
	size_t cap = 0;

	*len = cbor_serialize_alloc(m, &out, &cap);
	cbor_decref(&m);
	return out;
}

/* A response of 3 MiB: the keyholder's memory grows and shrinks under its filter. */
static void
test_sign_large(void)
{
	static const uint8_t req[32] = {9};
	struct kh_ends seen = {0};
	struct hwg_keyholder *k = kh_start("hwgw-response", &seen);
	struct hwg_keyholder_info in;
	struct hwg_error err = {0};
	struct hwg_cose_sign1 m;
	size_t big = 3u << 20, len = 0, msg_len = 0;
	uint8_t *fill = calloc(1, big), *payload, *msg = NULL;
	cbor_item_t *map = cbor_new_definite_map(4);
	EVP_PKEY *pub;

	CHECK(k != NULL && fill != NULL);
	if (k == NULL || fill == NULL) {
		hwg_keyholder_stop(k);
		free(fill);
		cbor_decref(&map);
		return;
	}
	(void)(hwg_cbor_map_put_uint(map, "v", 1) | hwg_cbor_map_put_bytes(map, "req", req, 32) |
	       hwg_cbor_map_put_uint(map, "t", 1) | hwg_cbor_map_put_bytes(map, "ok", fill, big));
	payload = map_bytes(map, &len);
	for (int i = 0; i < 3; i++) {
		CHECK_EQ_INT(hwg_cose_sign1_encode(HWG_COSE_ES256, payload, len,
		                                   hwg_keyholder_sign_response, k, &msg, &msg_len,
		                                   &err),
		             0);
		CHECK_EQ_INT(hwg_keyholder_info(k, &in, &err), 0);
		pub = hwg_keyholder_key_public(&in.response);
		CHECK(hwg_cose_sign1_decode(msg, msg_len, &m, &err) == 0 && pub != NULL &&
		      hwg_cose_sign1_verify(&m, pub, &err) == 0);
		hwg_cose_sign1_clear(&m);
		EVP_PKEY_free(pub);
		free(msg);
		msg = NULL;
	}
	free(payload);
	free(fill);
	hwg_keyholder_stop(k);
	CHECK_EQ_INT(seen.count, 0);
}

static void
test_sign_eddsa(void)
{
	struct kh_ends seen = {0};
	struct hwg_keyholder *k = kh_start(KH_ED_LABEL, &seen);
	struct hwg_keyholder_info in;
	struct hwg_error err = {0};
	uint8_t sig[64];

	CHECK(k != NULL);
	if (k == NULL)
		return;
	CHECK_EQ_INT(hwg_keyholder_response_alg(k), HWG_COSE_EDDSA);
	CHECK_EQ_INT(hwg_keyholder_info(k, &in, &err), 0);
	CHECK_EQ_INT(in.response.alg, HWG_COSE_EDDSA);
	sign_both_kinds(k);
	/* asked for the other algorithm: refused before the keyholder */
	CHECK_EQ_INT(hwg_keyholder_sign_response(k, HWG_COSE_ES256, sig, 32, sig, &err),
	             HWG_E_ALG_NOT_ALLOWED);
	hwg_keyholder_stop(k);
}

/* A Sig_structure in the gateway's encoding over payload, with prot and context given. */
static uint8_t *
sig_structure(const char *context, const uint8_t *prot, size_t prot_len, const uint8_t *payload,
              size_t payload_len, size_t *len)
{
	cbor_item_t *a = cbor_new_definite_array(4);
	unsigned char *out = NULL;
	size_t cap = 0;

	(void)cbor_array_push(a, cbor_move(cbor_build_string(context)));
	(void)cbor_array_push(a, cbor_move(cbor_build_bytestring(prot, prot_len)));
	(void)cbor_array_push(a, cbor_move(cbor_build_bytestring(NULL, 0)));
	(void)cbor_array_push(a, cbor_move(cbor_build_bytestring(payload, payload_len)));
	*len = cbor_serialize_alloc(a, &out, &cap);
	cbor_decref(&a);
	return out;
}

/* Refused as not a response, and the keyholder answers the next request. */
static void
refused(struct hwg_keyholder *k, const uint8_t *tbs, size_t len, const char *why)
{
	struct hwg_error err = {0};
	uint8_t sig[64];
	long pid = hwg_keyholder_pid(k);

	memset(sig, 0xa5, sizeof(sig));
	CHECK_EQ_INT(hwg_keyholder_sign_response(k, HWG_COSE_ES256, tbs, len, sig, &err),
	             HWG_E_BAD_ARGS);
	if (strstr(err.message, why) == NULL)
		fprintf(stderr, "  wanted \"%s\" in \"%s\"\n", why, err.message);
	CHECK(strstr(err.message, "signs responses only") != NULL);
	CHECK(strstr(err.message, why) != NULL);
	CHECK(sig[0] == 0xa5 && sig[63] == 0xa5);
	CHECK_EQ_INT(kh_sign_verify(k, &err), 0);
	CHECK_EQ_INT(hwg_keyholder_pid(k), pid);
}

static void
test_not_a_signing_oracle(void)
{
	static const uint8_t es256[3] = {0xa1, 0x01, 0x26}, eddsa[3] = {0xa1, 0x01, 0x27};
	static const uint8_t req[32] = {0};
	struct kh_ends seen = {0};
	struct hwg_keyholder *k = kh_start("hwgw-response", &seen);
	uint8_t digest[32], *good, *tbs, *p, *bad;
	size_t good_len = 0, len = 0, plen = 0;
	cbor_item_t *m;

	CHECK(k != NULL);
	if (k == NULL)
		return;
	good = kh_response(1, -1, &good_len);
	/* a raw digest, of the right length for ES256 */
	SHA256(good, good_len, digest);
	refused(k, digest, sizeof(digest), "not one CBOR item");
	/* a payload that is no response map */
	m = cbor_new_definite_map(1);
	(void)hwg_cbor_map_put_text(m, "x", "y");
	p = map_bytes(m, &plen);
	tbs = sig_structure("Signature1", es256, 3, p, plen, &len);
	refused(k, tbs, len, "not a response map");
	free(tbs);
	free(p);
	/* a response map with a key more */
	m = cbor_new_definite_map(5);
	(void)(hwg_cbor_map_put_uint(m, "v", 1) | hwg_cbor_map_put_bytes(m, "req", req, 32) |
	       hwg_cbor_map_put_uint(m, "t", 5) | hwg_cbor_map_put_bool(m, "ok", 1) |
	       hwg_cbor_map_put_bool(m, "err", 1));
	p = map_bytes(m, &plen);
	tbs = sig_structure("Signature1", es256, 3, p, plen, &len);
	refused(k, tbs, len, "exactly one of");
	free(tbs);
	free(p);
	/* "req" not 32 bytes */
	m = cbor_new_definite_map(4);
	(void)(hwg_cbor_map_put_uint(m, "v", 1) | hwg_cbor_map_put_bytes(m, "req", req, 31) |
	       hwg_cbor_map_put_uint(m, "t", 5) | hwg_cbor_map_put_bool(m, "ok", 1));
	p = map_bytes(m, &plen);
	tbs = sig_structure("Signature1", es256, 3, p, plen, &len);
	refused(k, tbs, len, "\"req\"");
	free(tbs);
	free(p);
	/* a good response, but a trailing byte after the Sig_structure */
	tbs = sig_structure("Signature1", es256, 3, good, good_len, &len);
	bad = malloc(len + 1);
	memcpy(bad, tbs, len);
	bad[len] = 0;
	refused(k, bad, len + 1, "not one CBOR item");
	free(bad);
	/* and a trailing byte inside the payload */
	free(tbs);
	bad = malloc(good_len + 1);
	memcpy(bad, good, good_len);
	bad[good_len] = 0;
	tbs = sig_structure("Signature1", es256, 3, bad, good_len + 1, &len);
	refused(k, tbs, len, "payload is not one CBOR item");
	free(tbs);
	free(bad);
	/* the other algorithm in the protected header */
	tbs = sig_structure("Signature1", eddsa, 3, good, good_len, &len);
	refused(k, tbs, len, "protected header");
	free(tbs);
	/* another context */
	tbs = sig_structure("Signature", es256, 3, good, good_len, &len);
	refused(k, tbs, len, "context");
	free(tbs);
	tbs = sig_structure("CounterSignature", es256, 3, good, good_len, &len);
	refused(k, tbs, len, "context");
	free(tbs);
	/* the gateway's encoding only: a length head one byte longer than needed */
	tbs = sig_structure("Signature1", es256, 3, good, good_len, &len);
	bad = malloc(len + 1);
	bad[0] = tbs[0];
	bad[1] = 0x78; /* text, one-byte length */
	bad[2] = 10;
	memcpy(bad + 3, tbs + 2, len - 2);
	refused(k, bad, len + 1, "gateway's encoding");
	free(bad);
	free(tbs);
	refused(k, NULL, 0, "not one CBOR item");
	free(good);
	hwg_keyholder_stop(k);
	CHECK_EQ_INT(seen.count, 0);
}

/* Requests of no type it serves, and bodies not of their type's shape: refused, still up. */
static void
test_unknown_and_misshapen_requests(void)
{
	struct kh_ends seen = {0};
	struct hwg_keyholder *k = kh_start("hwgw-response", &seen);
	uint8_t body[400] = {0};
	struct hwg_error err = {0};
	long pid;

	CHECK(k != NULL);
	if (k == NULL)
		return;
	pid = hwg_keyholder_pid(k);
	CHECK_EQ_INT(hwg_keyholder_test_raw(k, 31, NULL, 0, &err), HWG_E_UNKNOWN_OP);
	CHECK(strstr(err.message, "type 31") != NULL);
	CHECK_EQ_INT(hwg_keyholder_test_raw(k, 0, body, 10, &err), HWG_E_UNKNOWN_OP);
	CHECK_EQ_INT(hwg_keyholder_test_raw(k, 2, body, 10, &err),
	             HWG_E_UNKNOWN_OP); /* a verdict */
	CHECK_EQ_INT(hwg_keyholder_test_raw(k, HWG_KH_REPLY, NULL, 0, &err), HWG_E_UNKNOWN_OP);
	CHECK_EQ_INT(hwg_keyholder_test_raw(k, HWG_KH_INFO, body, 1, &err), HWG_E_BAD_ARGS);
	CHECK_EQ_INT(hwg_keyholder_test_raw(k, HWG_KH_INFO, NULL, 0, &err), 0);
	/* a checkpoint of 47 and 49 bytes, sequence 0, a negative time */
	body[7] = 1;
	CHECK_EQ_INT(hwg_keyholder_test_raw(k, HWG_KH_SIGN_CHECKPOINT, body, 47, &err),
	             HWG_E_BAD_ARGS);
	CHECK_EQ_INT(hwg_keyholder_test_raw(k, HWG_KH_SIGN_CHECKPOINT, body, 49, &err),
	             HWG_E_BAD_ARGS);
	CHECK_EQ_INT(hwg_keyholder_test_raw(k, HWG_KH_SIGN_CHECKPOINT, body, 48, &err), 0);
	body[40] = 0x80;
	CHECK_EQ_INT(hwg_keyholder_test_raw(k, HWG_KH_SIGN_CHECKPOINT, body, 48, &err),
	             HWG_E_BAD_ARGS);
	memset(body, 0, sizeof(body));
	CHECK_EQ_INT(hwg_keyholder_test_raw(k, HWG_KH_SIGN_CHECKPOINT, body, 48, &err),
	             HWG_E_BAD_ARGS);
	/* a Sig_structure string with a byte after it; a length past the body */
	body[3] = 1;
	CHECK_EQ_INT(hwg_keyholder_test_raw(k, HWG_KH_SIGN_RESPONSE, body, 6, &err),
	             HWG_E_BAD_ARGS);
	CHECK(strstr(err.message, "after the Sig_structure") != NULL);
	body[3] = 9;
	CHECK_EQ_INT(hwg_keyholder_test_raw(k, HWG_KH_SIGN_RESPONSE, body, 6, &err),
	             HWG_E_BAD_ARGS);
	/* a seal one template byte short and one long; an open with a byte after the blob */
	memset(body, 0, sizeof(body));
	body[3] = 4;
	memcpy(body + 4, "op.a", 4);
	CHECK_EQ_INT(
	    hwg_keyholder_test_raw(k, HWG_KH_SEAL_TEMPLATE, body, 8 + HWG_MATCH_DIM - 1, &err),
	    HWG_E_BAD_ARGS);
	CHECK_EQ_INT(
	    hwg_keyholder_test_raw(k, HWG_KH_SEAL_TEMPLATE, body, 8 + HWG_MATCH_DIM + 1, &err),
	    HWG_E_BAD_ARGS);
	CHECK_EQ_INT(hwg_keyholder_test_raw(k, HWG_KH_OPEN_TEMPLATE, body, 8 + 4 + 1, &err),
	             HWG_E_BAD_ARGS);
	CHECK_EQ_INT(kh_sign_verify(k, &err), 0);
	CHECK_EQ_INT(hwg_keyholder_pid(k), pid);
	hwg_keyholder_stop(k);
	CHECK_EQ_INT(seen.count, 0);
}

static struct hwg_certcode_summary
summary(void)
{
	struct hwg_certcode_summary s;

	memset(&s, 0, sizeof(s));
	snprintf(s.gw, sizeof(s.gw), "gw-test");
	snprintf(s.no, sizeof(s.no), "gw-test-20260401-000001");
	memset(s.doc, 0x3c, sizeof(s.doc));
	snprintf(s.kind, sizeof(s.kind), "juminhyo");
	snprintf(s.date, sizeof(s.date), "2026-04-01");
	return s;
}

/* A summary sealed by the keyholder is a code that verifies with INFO's seal key, and no other. */
static void
test_seal_summary(void)
{
	struct kh_ends seen = {0};
	struct hwg_keyholder *k = kh_start("hwgw-response", &seen);
	struct hwg_certcode_summary s = summary(), back;
	struct hwg_keyholder_info in;
	struct hwg_error err = {0};
	EVP_PKEY *seal = NULL, *response = NULL;
	uint8_t *cose = NULL;
	size_t len = 0;
	char *text = NULL;

	REQUIRE(k != NULL);
	REQUIRE(hwg_keyholder_info(k, &in, &err) == 0);
	seal = hwg_keyholder_key_public(&in.seal);
	response = hwg_keyholder_key_public(&in.response);
	snprintf(s.orig, sizeof(s.orig), "gw-test-20260301-000009");
	CHECK_EQ_INT(hwg_keyholder_seal_summary(k, &s, &cose, &len, &err), 0);
	CHECK(cose != NULL && len <= HWG_CERTCODE_COSE_MAX);
	CHECK(cose != NULL && hwg_certcode_text(cose, len, &text, &err) == 0);
	CHECK(text != NULL && hwg_certcode_verify(text, strlen(text), seal, &back, &err) == 0 &&
	      memcmp(&back, &s, sizeof(s)) == 0);
	CHECK(text != NULL && hwg_certcode_verify(text, strlen(text), response, &back, &err) ==
	                          HWG_E_BAD_SIGNATURE);
	free(text);
	free(cose);
	cose = NULL;
	/* what is no summary is refused before it is sent */
	snprintf(s.date, sizeof(s.date), "2026-02-30");
	CHECK_EQ_INT(hwg_keyholder_seal_summary(k, &s, &cose, &len, &err), HWG_E_INVALID);
	CHECK(cose == NULL);
	EVP_PKEY_free(seal);
	EVP_PKEY_free(response);
	hwg_keyholder_stop(k);
	CHECK_EQ_INT(seen.count, 0);
}

/* What the seal key refuses to sign, sent raw: it answers and stays up. */
static void
test_seal_refusals(void)
{
	struct kh_ends seen = {0};
	struct hwg_keyholder *k = kh_start("hwgw-response", &seen);
	struct hwg_certcode_summary s = summary();
	struct hwg_buf *b = hwg_buf_new(1024);
	struct hwg_error err = {0};
	uint8_t digest[32] = {1};
	long pid;

	REQUIRE(k != NULL && b != NULL);
	pid = hwg_keyholder_pid(k);
	REQUIRE(hwg_kh_summary_encode(&s, b) == 0);
	CHECK_EQ_INT(
	    hwg_keyholder_test_raw(k, HWG_KH_SEAL_SUMMARY, hwg_buf_ptr(b), hwg_buf_len(b), &err),
	    0); /* the control */
	CHECK_EQ_INT(hwg_keyholder_test_raw(k, HWG_KH_SEAL_SUMMARY, hwg_buf_ptr(b),
	                                    hwg_buf_len(b) - 1, &err),
	             HWG_E_BAD_ARGS);
	hwg_buf_reset(b);
	snprintf(s.kind, sizeof(s.kind), "passport");
	REQUIRE(hwg_kh_summary_encode(&s, b) == 0);
	CHECK_EQ_INT(
	    hwg_keyholder_test_raw(k, HWG_KH_SEAL_SUMMARY, hwg_buf_ptr(b), hwg_buf_len(b), &err),
	    HWG_E_BAD_ARGS);
	CHECK(strstr(err.message, "the seal key signs summaries only") != NULL);
	hwg_buf_reset(b);
	s = summary();
	snprintf(s.no, sizeof(s.no), "gw-other-20260401-000001"); /* not this gateway's number */
	REQUIRE(hwg_kh_summary_encode(&s, b) == 0);
	CHECK_EQ_INT(
	    hwg_keyholder_test_raw(k, HWG_KH_SEAL_SUMMARY, hwg_buf_ptr(b), hwg_buf_len(b), &err),
	    HWG_E_BAD_ARGS);
	/* a PDF: a number, then exactly 32 bytes */
	hwg_buf_reset(b);
	REQUIRE(hwg_kh_pdf_encode("gw-test-20260401-000001", digest, b) == 0);
	CHECK_EQ_INT(
	    hwg_keyholder_test_raw(k, HWG_KH_SEAL_PDF, hwg_buf_ptr(b), hwg_buf_len(b), &err), 0);
	CHECK_EQ_INT(
	    hwg_keyholder_test_raw(k, HWG_KH_SEAL_PDF, hwg_buf_ptr(b), hwg_buf_len(b) - 1, &err),
	    HWG_E_BAD_ARGS);
	hwg_buf_reset(b);
	REQUIRE(hwg_kh_pdf_encode("gw-test-2026-000001", digest, b) == 0);
	CHECK_EQ_INT(
	    hwg_keyholder_test_raw(k, HWG_KH_SEAL_PDF, hwg_buf_ptr(b), hwg_buf_len(b), &err),
	    HWG_E_BAD_ARGS);
	CHECK(strstr(err.message, "issuance number") != NULL);
	/* a bare digest, as the response key would be asked: no number, refused */
	CHECK_EQ_INT(hwg_keyholder_test_raw(k, HWG_KH_SEAL_PDF, digest, sizeof(digest), &err),
	             HWG_E_BAD_ARGS);
	CHECK_EQ_INT(kh_sign_verify(k, &err), 0);
	CHECK_EQ_INT(hwg_keyholder_pid(k), pid);
	hwg_buf_free(b);
	hwg_keyholder_stop(k);
	CHECK_EQ_INT(seen.count, 0);
}

static void
test_seal_pdf(void)
{
	struct kh_ends seen = {0};
	struct hwg_keyholder *k = kh_start("hwgw-response", &seen);
	struct hwg_keyholder_info in;
	struct hwg_error err = {0};
	uint8_t digest[32], seal[64];
	EVP_PKEY *pub = NULL;

	REQUIRE(k != NULL);
	REQUIRE(hwg_keyholder_info(k, &in, &err) == 0);
	pub = hwg_keyholder_key_public(&in.seal);
	SHA256((const uint8_t *)"%PDF-1.7 a certificate", 22, digest);
	CHECK_EQ_INT(hwg_keyholder_seal_pdf(k, "gw-test-20260401-000001", digest, seal, &err), 0);
	CHECK_EQ_INT(
	    hwg_certcode_pdf_seal_verify(pub, "gw-test-20260401-000001", digest, seal, &err), 0);
	CHECK_EQ_INT(
	    hwg_certcode_pdf_seal_verify(pub, "gw-test-20260401-000002", digest, seal, &err),
	    HWG_E_BAD_SIGNATURE);
	CHECK_EQ_INT(hwg_keyholder_seal_pdf(k, "not-a-number", digest, seal, &err), HWG_E_INVALID);
	EVP_PKEY_free(pub);
	hwg_keyholder_stop(k);
}

/* A keyholder without a seal key (none named, or none in the token) starts; seals are NOT_FOUND. */
static void
test_no_seal_key(void)
{
	const char *labels[] = {NULL, "no-such-seal"};
	struct hwg_certcode_summary s = summary();
	struct hwg_keyholder_key key;
	struct hwg_keyholder_info in;
	struct hwg_error err = {0};
	struct hwg_buf *b = hwg_buf_new(512);
	uint8_t digest[32] = {0}, seal[64], *cose = NULL;
	size_t len;

	REQUIRE(b != NULL && hwg_kh_summary_encode(&s, b) == 0);
	for (size_t i = 0; i < 2; i++) {
		struct hwg_keyholder_config cfg = kh_config("hwgw-response");
		struct hwg_keyholder *k = NULL;

		cfg.seal_key = labels[i];
		REQUIRE(hwg_keyholder_start(&cfg, NULL, NULL, &k, &err) == 0);
		CHECK_EQ_INT(hwg_keyholder_info(k, &in, &err), 0);
		CHECK_EQ_INT(in.seal_key, 0);
		CHECK_EQ_INT(hwg_keyholder_seal_key(k, &key), HWG_E_NOT_FOUND);
		CHECK_EQ_INT(hwg_keyholder_seal_summary(k, &s, &cose, &len, &err), HWG_E_NOT_FOUND);
		CHECK(strstr(err.message, "no seal key") != NULL);
		CHECK_EQ_INT(hwg_keyholder_seal_pdf(k, s.no, digest, seal, &err), HWG_E_NOT_FOUND);
		/* and the keyholder itself says so */
		CHECK_EQ_INT(hwg_keyholder_test_raw(k, HWG_KH_SEAL_SUMMARY, hwg_buf_ptr(b),
		                                    hwg_buf_len(b), &err),
		             HWG_E_NOT_FOUND);
		CHECK_EQ_INT(kh_sign_verify(k, &err), 0);
		hwg_keyholder_stop(k);
	}
	hwg_buf_free(b);
}

static int
rm_tree(const char *dir)
{
	char cmd[400];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd);
}

/* A checkpoint signed by the keyholder is one hwg_audit_verify accepts with INFO's audit key. */
static void
test_checkpoint(void)
{
	struct kh_ends seen = {0};
	struct hwg_keyholder *k = kh_start("hwgw-response", &seen);
	char dir[] = "/tmp/hwgw-kh-audit.XXXXXX";
	struct hwg_audit_verify_result vr;
	struct hwg_keyholder_info in;
	struct hwg_store *s = NULL;
	struct hwg_error err = {0};
	EVP_PKEY *pub = NULL, *other;
	uint8_t hash[32] = {0}, sig[64];

	CHECK(k != NULL && mkdtemp(dir) != NULL);
	if (k == NULL)
		return;
	CHECK_EQ_INT(hwg_store_open(dir, 1, &s, &err), 0);
	CHECK_EQ_INT(hwg_keyholder_info(k, &in, &err), 0);
	pub = hwg_keyholder_key_public(&in.audit);
	for (int i = 0; s != NULL && i < 12; i++) {
		struct hwg_audit_event ev = {1000 + i, "counter01", 1000, "unix", "gw.info",
		                             "",       "",          "ok", "",     NULL};

		CHECK_EQ_INT(hwg_audit_append(s, &ev, NULL, &err), 0);
	}
	CHECK_EQ_INT(hwg_audit_checkpoint_fields(s, hwg_keyholder_sign_checkpoint, k, 5000, &err),
	             0);
	CHECK_EQ_INT(hwg_audit_verify(s, pub, &vr, &err), 0);
	CHECK_EQ_INT(vr.records, 12);
	CHECK_EQ_INT(vr.checkpoints, 1);
	/* not with the response key */
	other = hwg_keyholder_key_public(&in.response);
	CHECK_EQ_INT(hwg_audit_verify(s, other, &vr, &err), HWG_E_TAMPERED);
	EVP_PKEY_free(other);
	/* fields a checkpoint cannot have are refused at either end */
	CHECK_EQ_INT(hwg_keyholder_sign_checkpoint(k, 0, hash, 1, sig, &err), HWG_E_INVALID);
	CHECK_EQ_INT(hwg_keyholder_sign_checkpoint(k, 1, hash, -1, sig, &err), HWG_E_INVALID);
	hwg_store_close(s);
	EVP_PKEY_free(pub);
	rm_tree(dir);
	hwg_keyholder_stop(k);
}

static void
test_templates(void)
{
	struct kh_ends seen = {0};
	struct hwg_keyholder *k = kh_start("hwgw-response", &seen), *none;
	struct hwg_keyholder_config cfg = kh_config("hwgw-response");
	int8_t tmpl[HWG_MATCH_DIM], back[HWG_MATCH_DIM];
	char long_id[HWG_MATCH_ID_MAX + 2];
	struct hwg_error err = {0};
	uint8_t *blob = NULL, *other = NULL;
	size_t len = 0, other_len = 0;

	CHECK(k != NULL);
	if (k == NULL)
		return;
	for (int i = 0; i < HWG_MATCH_DIM; i++)
		tmpl[i] = (int8_t)(i * 7 - 100);
	CHECK_EQ_INT(hwg_keyholder_seal_template(k, "op.alice", tmpl, &blob, &len, &err), 0);
	CHECK_EQ_INT(len, HWG_KEYHOLDER_BLOB_LEN);
	CHECK(blob != NULL && memcmp(blob, "PVS1", 4) == 0);
	memset(back, 0, sizeof(back));
	CHECK_EQ_INT(hwg_keyholder_open_template(k, "op.alice", blob, len, back, &err), 0);
	CHECK(memcmp(back, tmpl, sizeof(tmpl)) == 0);
	/* another operator's, changed, cut: tampered, and back untouched */
	memset(back, 0x11, sizeof(back));
	CHECK_EQ_INT(hwg_keyholder_open_template(k, "op.bob", blob, len, back, &err),
	             HWG_E_TEMPLATE_TAMPERED);
	blob[100] ^= 1;
	CHECK_EQ_INT(hwg_keyholder_open_template(k, "op.alice", blob, len, back, &err),
	             HWG_E_TEMPLATE_TAMPERED);
	blob[100] ^= 1;
	CHECK_EQ_INT(hwg_keyholder_open_template(k, "op.alice", blob, len - 1, back, &err),
	             HWG_E_TEMPLATE_TAMPERED);
	CHECK_EQ_INT(hwg_keyholder_open_template(k, "op.alice", blob, 0, back, &err),
	             HWG_E_TEMPLATE_TAMPERED);
	CHECK(back[0] == 0x11 && back[HWG_MATCH_DIM - 1] == 0x11);
	/* operator ids outside the grammar: refused by the keyholder, or here when too long */
	CHECK_EQ_INT(hwg_keyholder_seal_template(k, "op alice", tmpl, &other, &other_len, &err),
	             HWG_E_BAD_ARGS);
	CHECK(strstr(err.message, "operator id") != NULL);
	CHECK_EQ_INT(hwg_keyholder_seal_template(k, "op/../x", tmpl, &other, &other_len, &err),
	             HWG_E_BAD_ARGS);
	CHECK_EQ_INT(hwg_keyholder_open_template(k, "op\n", blob, len, back, &err), HWG_E_BAD_ARGS);
	memset(long_id, 'a', sizeof(long_id) - 1);
	long_id[sizeof(long_id) - 1] = '\0';
	CHECK_EQ_INT(hwg_keyholder_seal_template(k, long_id, tmpl, &other, &other_len, &err),
	             HWG_E_INVALID);
	CHECK_EQ_INT(hwg_keyholder_seal_template(k, "", tmpl, &other, &other_len, &err),
	             HWG_E_INVALID);
	CHECK(other == NULL);
	long_id[HWG_MATCH_ID_MAX] = '\0'; /* 64: the longest id */
	CHECK_EQ_INT(hwg_keyholder_seal_template(k, long_id, tmpl, &other, &other_len, &err), 0);
	CHECK_EQ_INT(hwg_keyholder_open_template(k, long_id, other, other_len, back, &err), 0);
	CHECK(memcmp(back, tmpl, sizeof(tmpl)) == 0);
	free(other);
	/* a keyholder without a template key refuses both */
	cfg.template_key = NULL;
	CHECK_EQ_INT(hwg_keyholder_start(&cfg, NULL, NULL, &none, &err), 0);
	if (none != NULL) {
		struct hwg_keyholder_info in;

		CHECK_EQ_INT(hwg_keyholder_info(none, &in, &err), 0);
		CHECK_EQ_INT(in.template_key, 0);
		CHECK_EQ_INT(hwg_keyholder_open_template(none, "op.alice", blob, len, back, &err),
		             HWG_E_NOT_FOUND);
		hwg_keyholder_stop(none);
	}
	free(blob);
	hwg_keyholder_stop(k);
}

struct worker {
	struct hwg_keyholder *k;
	int failures;
};

static void *
worker_main(void *arg)
{
	struct worker *w = arg;
	struct hwg_error err = {0};

	for (int i = 0; i < 15; i++)
		if (kh_sign_verify(w->k, &err) != 0)
			w->failures++;
	return NULL;
}

/*
 * Six threads at once, on one signer and on three (--signers): every
 * signature verifies, and the replies come back in the requests' order
 * (the privileged side ends a keyholder whose reply answers another id).
 */
static void
test_threads(void)
{
	for (unsigned signers = 1; signers <= 3; signers += 2) {
		struct hwg_keyholder_config cfg = kh_config("hwgw-response");
		struct hwg_keyholder *k = NULL;
		struct hwg_error err = {0};
		struct worker w[6];
		pthread_t t[6];

		cfg.signers = signers;
		CHECK_EQ_INT(hwg_keyholder_start(&cfg, NULL, NULL, &k, &err), 0);
		if (k == NULL)
			return;
		for (int i = 0; i < 6; i++) {
			w[i] = (struct worker){k, 0};
			CHECK_EQ_INT(pthread_create(&t[i], NULL, worker_main, &w[i]), 0);
		}
		for (int i = 0; i < 6; i++) {
			pthread_join(t[i], NULL);
			CHECK_EQ_INT(w[i].failures, 0);
		}
		hwg_keyholder_stop(k);
	}
}

/* A keyholder that cannot start says why; nothing is left running. */
static void
test_start_failures(void)
{
	struct hwg_keyholder_config cfg = kh_config("hwgw-response");
	struct hwg_keyholder *k = NULL;
	struct hwg_error err = {0};
	char missing[400];
	int status;

	snprintf(missing, sizeof(missing), "%s/no-such.pin", kh_dir);
	cfg.pin_file = missing;
	CHECK_EQ_INT(hwg_keyholder_start(&cfg, NULL, NULL, &k, &err), HWG_E_CONFIG);
	CHECK(strstr(err.message, "no-such.pin") != NULL);
	cfg = kh_config("no-such-key");
	CHECK_EQ_INT(hwg_keyholder_start(&cfg, NULL, NULL, &k, &err), HWG_E_NOT_FOUND);
	CHECK(strstr(err.message, "no-such-key") != NULL);
	cfg = kh_config("hwgw-response");
	cfg.audit_key = KH_ED_LABEL;
	CHECK_EQ_INT(hwg_keyholder_start(&cfg, NULL, NULL, &k, &err), HWG_E_HSM);
	CHECK(strstr(err.message, "P-256") != NULL);
	cfg = kh_config("hwgw-response");
	cfg.seal_key = KH_ED_LABEL; /* a seal key is P-256, like the audit key */
	CHECK_EQ_INT(hwg_keyholder_start(&cfg, NULL, NULL, &k, &err), HWG_E_HSM);
	CHECK(strstr(err.message, "seal key") != NULL && strstr(err.message, "P-256") != NULL);
	cfg = kh_config("hwgw-response");
	cfg.token_label = "not-ours";
	CHECK_EQ_INT(hwg_keyholder_start(&cfg, NULL, NULL, &k, &err), HWG_E_HSM);
	cfg = kh_config("hwgw-response");
	cfg.audit_key = NULL;
	CHECK_EQ_INT(hwg_keyholder_start(&cfg, NULL, NULL, &k, &err), HWG_E_CONFIG);
	cfg = kh_config("hwgw-response");
	cfg.exe = "/nonexistent/hwgw-keyholder";
	CHECK_EQ_INT(hwg_keyholder_start(&cfg, NULL, NULL, &k, &err), HWG_E_CONFIG);
	CHECK(k == NULL);
	/* every child was waited for */
	CHECK(waitpid(-1, &status, WNOHANG) < 0 && errno == ECHILD);
}

int
main(void)
{
	int rc = kh_setup();

	if (rc != 0)
		return rc;
	HWG_RUN(test_info);
	HWG_RUN(test_module_only_in_keyholder);
	HWG_RUN(test_sign_es256);
	HWG_RUN(test_sign_large);
	HWG_RUN(test_sign_eddsa);
	HWG_RUN(test_not_a_signing_oracle);
	HWG_RUN(test_unknown_and_misshapen_requests);
	HWG_RUN(test_checkpoint);
	HWG_RUN(test_templates);
	HWG_RUN(test_seal_summary);
	HWG_RUN(test_seal_refusals);
	HWG_RUN(test_seal_pdf);
	HWG_RUN(test_no_seal_key);
	HWG_RUN(test_threads);
	HWG_RUN(test_start_failures);
	kh_teardown();
	return HWG_TEST_END();
}
