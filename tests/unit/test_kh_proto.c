/*
 * test_kh_proto.c — the keyholder's messages without a keyholder: every
 * encoder's output decodes to what went in; every decoder refuses a byte
 * too few or too many; what the response key may sign (hwg_kh_response_check)
 * case by case, and over every one-bit flip and every truncation of a good
 * Sig_structure, where nothing but the original may pass; a certificate's
 * summary and a PDF's seal request, and what is no summary refused.
 */
#include <cbor.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <stdlib.h>
#include <string.h>

#include "hwg_cbor.h"
#include "hwg_cose.h"
#include "hwg_kh_proto.h"
#include "hwg_test.h"

static const uint8_t REQ[33] = {0xde, 0xad}; /* one more, for a req too long */

static uint8_t *
serialize(cbor_item_t *item, size_t *len)
{
	unsigned char *out = NULL;
	size_t cap = 0;

	*len = cbor_serialize_alloc(item, &out, &cap);
	cbor_decref(&item);
	return out;
}

/* A response map: v, req (req_len bytes), t, and ok or err with the given code. */
static uint8_t *
response(int v, size_t req_len, const char *err_code, int tries, size_t *len)
{
	cbor_item_t *m = cbor_new_definite_map(4), *e;

	(void)(hwg_cbor_map_put_uint(m, "v", (uint64_t)v) |
	       hwg_cbor_map_put_bytes(m, "req", REQ, req_len) | hwg_cbor_map_put_uint(m, "t", 7));
	if (err_code == NULL) {
		(void)hwg_cbor_map_put_item(m, "ok", cbor_build_bool(true));
	} else {
		e = cbor_new_definite_map(tries >= 0 ? 3 : 2);
		(void)(hwg_cbor_map_put_text(e, "code", err_code) |
		       hwg_cbor_map_put_text(e, "msg", "m"));
		if (tries >= 0)
			(void)hwg_cbor_map_put_uint(e, "tries", (uint64_t)tries);
		(void)hwg_cbor_map_put_item(m, "err", e);
	}
	return serialize(m, len);
}

/* The Sig_structure hwg_cose builds for alg over payload. */
static uint8_t *
tbs_for(int alg, const uint8_t *payload, size_t plen, size_t *len)
{
	uint8_t prot[3] = {0xa1, 0x01, (uint8_t)(0x20 | (-1 - alg))}, *out = NULL;

	*len = 0;
	if (hwg_cose_sig_structure(prot, sizeof(prot), payload, plen, &out, len) != 0)
		return NULL;
	return out;
}

static int
check_payload(int alg, const uint8_t *payload, size_t plen)
{
	struct hwg_error err = {0};
	size_t len = 0;
	uint8_t *tbs = tbs_for(alg, payload, plen, &len);
	int rc = hwg_kh_response_check(alg, tbs, len, &err);

	free(tbs);
	return rc;
}

static void
test_response_check(void)
{
	struct hwg_error err = {0};
	uint8_t *p, *tbs;
	size_t plen, len;
	cbor_item_t *m;

	/* what the gateway signs: ok, err, err with tries, both algorithms */
	p = response(1, 32, NULL, -1, &plen);
	CHECK_EQ_INT(check_payload(HWG_COSE_ES256, p, plen), 0);
	CHECK_EQ_INT(check_payload(HWG_COSE_EDDSA, p, plen), 0);
	/* under the other key's algorithm */
	tbs = tbs_for(HWG_COSE_EDDSA, p, plen, &len);
	CHECK_EQ_INT(hwg_kh_response_check(HWG_COSE_ES256, tbs, len, &err), HWG_E_BAD_ARGS);
	CHECK(strstr(err.message, "protected header") != NULL);
	free(tbs);
	CHECK_EQ_INT(check_payload(0, p, plen), HWG_E_BAD_ARGS);
	free(p);
	p = response(1, 32, "pin_wrong", 2, &plen);
	CHECK_EQ_INT(check_payload(HWG_COSE_ES256, p, plen), 0);
	free(p);
	p = response(1, 32, "hsm_unavailable", -1, &plen);
	CHECK_EQ_INT(check_payload(HWG_COSE_ES256, p, plen), 0);
	free(p);
	/* not a response */
	p = response(2, 32, NULL, -1, &plen);
	CHECK_EQ_INT(check_payload(HWG_COSE_ES256, p, plen), HWG_E_BAD_ARGS);
	free(p);
	p = response(1, 33, NULL, -1, &plen);
	CHECK_EQ_INT(check_payload(HWG_COSE_ES256, p, plen), HWG_E_BAD_ARGS);
	free(p);
	p = response(1, 32, "no_such_code", -1, &plen);
	CHECK_EQ_INT(check_payload(HWG_COSE_ES256, p, plen), HWG_E_BAD_ARGS);
	free(p);
	m = cbor_new_definite_map(3);
	(void)(hwg_cbor_map_put_uint(m, "v", 1) | hwg_cbor_map_put_bytes(m, "req", REQ, 32) |
	       hwg_cbor_map_put_uint(m, "t", 7));
	p = serialize(m, &plen);
	CHECK_EQ_INT(check_payload(HWG_COSE_ES256, p, plen), HWG_E_BAD_ARGS);
	free(p);
	/* an err with a key more */
	m = cbor_new_definite_map(4);
	{
		cbor_item_t *e = cbor_new_definite_map(3);

		(void)(hwg_cbor_map_put_text(e, "code", "pin_wrong") |
		       hwg_cbor_map_put_text(e, "msg", "m") | hwg_cbor_map_put_text(e, "x", "y"));
		(void)(hwg_cbor_map_put_uint(m, "v", 1) |
		       hwg_cbor_map_put_bytes(m, "req", REQ, 32) |
		       hwg_cbor_map_put_uint(m, "t", 7) | hwg_cbor_map_put_item(m, "err", e));
	}
	p = serialize(m, &plen);
	CHECK_EQ_INT(check_payload(HWG_COSE_ES256, p, plen), HWG_E_BAD_ARGS);
	free(p);
	/* a bare array, a digest, nothing */
	m = cbor_new_definite_array(0);
	p = serialize(m, &plen);
	CHECK_EQ_INT(check_payload(HWG_COSE_ES256, p, plen), HWG_E_BAD_ARGS);
	CHECK_EQ_INT(hwg_kh_response_check(HWG_COSE_ES256, REQ, 32, &err), HWG_E_BAD_ARGS);
	CHECK_EQ_INT(hwg_kh_response_check(HWG_COSE_ES256, NULL, 0, &err), HWG_E_BAD_ARGS);
	free(p);
}

/* The offset just after needle in hay (which holds it), or len when it is not there. */
static size_t
after(const uint8_t *hay, size_t len, const void *needle, size_t n)
{
	const uint8_t *at = memmem(hay, len, needle, n);

	return at != NULL ? (size_t)(at - hay) + n : len;
}

/*
 * Every one-bit flip and every cut of a good Sig_structure is refused,
 * but for flips inside the values a response leaves free: req's bytes,
 * t's and tries' values, the message's one character.
 */
static void
test_response_check_mutants(void)
{
	struct hwg_error err = {0};
	size_t plen, len, req_at, t_at, msg_at, tries_at;
	uint8_t *p = response(1, 32, "pin_wrong", 3, &plen), *tbs, *m;

	tbs = tbs_for(HWG_COSE_ES256, p, plen, &len);
	m = malloc(len);
	CHECK(tbs != NULL && m != NULL);
	if (tbs == NULL || m == NULL)
		goto out;
	CHECK_EQ_INT(hwg_kh_response_check(HWG_COSE_ES256, tbs, len, &err), 0);
	req_at = after(tbs, len, "\x63req\x58\x20", 6);
	t_at = after(tbs, len, "\x61t\x1b", 3) - 1; /* not the "at" of "Signature1" */
	msg_at = after(tbs, len, "\x63msg\x61", 5);
	tries_at = after(tbs, len, "\x65tries", 6);
	CHECK(req_at + 32 <= len && t_at + 8 < len && msg_at < len && tries_at + 8 < len);
	if (req_at + 32 > len || t_at + 8 >= len || msg_at >= len || tries_at + 8 >= len)
		goto out;
	CHECK(tbs[t_at] == 0x1b && tbs[tries_at] == 0x1b);
	for (size_t i = 0; i < len; i++) {
		/* hwg_cbor puts a uint as a 64-bit value: a head (0x1b) and 8 free bytes */
		int free_value = (i >= req_at && i < req_at + 32) || (i > t_at && i <= t_at + 8) ||
		                 i == msg_at || (i > tries_at && i <= tries_at + 8);

		for (int bit = 0; bit < 8; bit++) {
			memcpy(m, tbs, len);
			m[i] ^= (uint8_t)(1u << bit);
			if (hwg_kh_response_check(HWG_COSE_ES256, m, len, &err) == 0 &&
			    !free_value) {
				fprintf(stderr, "  byte %zu bit %d passed\n", i, bit);
				CHECK(0);
			}
		}
		/* the free values still pass with any req byte */
		if (i >= req_at && i < req_at + 32) {
			memcpy(m, tbs, len);
			m[i] ^= 0xff;
			CHECK_EQ_INT(hwg_kh_response_check(HWG_COSE_ES256, m, len, &err), 0);
		}
	}
	for (size_t cut = 0; cut < len; cut++)
		CHECK_EQ_INT(hwg_kh_response_check(HWG_COSE_ES256, tbs, cut, &err), HWG_E_BAD_ARGS);
out:
	free(m);
	free(tbs);
	free(p);
}

static void
test_reply(void)
{
	struct hwg_buf *b = hwg_buf_new(1024);
	char msg[HWG_KH_TEXT_MAX + 1], long_msg[400];
	struct hwg_error err = {0};
	const uint8_t *res;
	size_t len;
	int code;

	CHECK_EQ_INT(hwg_kh_reply_encode(0, "", (const uint8_t *)"abc", 3, b), 0);
	CHECK_EQ_INT(hwg_kh_reply_decode(b, &code, msg, &res, &len, &err), 0);
	CHECK(code == 0 && len == 3 && memcmp(res, "abc", 3) == 0 && msg[0] == '\0');
	hwg_buf_reset(b);
	memset(long_msg, 'x', sizeof(long_msg) - 1);
	long_msg[sizeof(long_msg) - 1] = '\0';
	CHECK_EQ_INT(hwg_kh_reply_encode(HWG_E_HSM, long_msg, NULL, 0, b), 0);
	CHECK_EQ_INT(hwg_kh_reply_decode(b, &code, msg, &res, &len, &err), 0);
	CHECK(code == HWG_E_HSM && len == 0 && strlen(msg) == HWG_KH_TEXT_MAX);
	/* an error with a result, a code nobody knows, a control byte, a byte after */
	CHECK_EQ_INT(hwg_kh_reply_encode(HWG_E_HSM, "m", (const uint8_t *)"a", 1, b),
	             HWG_E_INVALID);
	CHECK_EQ_INT(hwg_kh_reply_encode(5, "m", NULL, 0, b), HWG_E_INVALID);
	{
		static const uint8_t unknown[] = {0xff, 0xff, 0xff, 0x00, 0, 0, 0, 0, 0, 0, 0, 0};
		static const uint8_t ctl[] = {0xff, 0xff, 0xff, 0xe1, 0, 0, 0, 1, '\n', 0, 0, 0, 0};
		static const uint8_t after[] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 7};
		static const uint8_t ok_msg[] = {0, 0, 0, 0, 0, 0, 0, 1, 'x', 0, 0, 0, 0};
		static const uint8_t err_res[] = {0xff, 0xff, 0xff, 0xe1, 0, 0, 0,
		                                  0,    0,    0,    0,    1, 7};
		const uint8_t *const bad[] = {unknown, ctl, after, ok_msg, err_res};
		const size_t bad_len[] = {sizeof(unknown), sizeof(ctl), sizeof(after),
		                          sizeof(ok_msg), sizeof(err_res)};

		for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			struct hwg_buf *r = hwg_buf_from(bad[i], bad_len[i]);

			CHECK_EQ_INT(hwg_kh_reply_decode(r, &code, msg, &res, &len, &err),
			             HWG_E_BAD_ENCODING);
			hwg_buf_free(r);
		}
	}
	hwg_buf_reset(b);
	CHECK_EQ_INT(hwg_kh_ready_encode(HWG_E_CONFIG, "PIN file", b), 0);
	CHECK_EQ_INT(hwg_kh_ready_decode(b, &code, msg, &err), 0);
	CHECK(code == HWG_E_CONFIG && strcmp(msg, "PIN file") == 0);
	hwg_buf_free(b);
}

static void
test_requests(void)
{
	struct hwg_kh_checkpoint cp = {.seq = 42, .time_ms = 1700000000000}, back;
	char id[HWG_MATCH_ID_MAX + 1];
	struct hwg_buf *b = hwg_buf_new(1024), *r;
	struct hwg_error err = {0};
	int8_t tmpl[HWG_MATCH_DIM] = {-1, 2};
	const uint8_t *view;
	uint8_t raw[600];
	size_t len;

	memset(cp.hash, 0x5a, sizeof(cp.hash));
	CHECK_EQ_INT(hwg_kh_checkpoint_encode(&cp, b), 0);
	CHECK_EQ_INT(hwg_buf_len(b), 48);
	CHECK_EQ_INT(hwg_kh_checkpoint_decode(b, &back, &err), 0);
	CHECK(back.seq == 42 && back.time_ms == cp.time_ms && memcmp(back.hash, cp.hash, 32) == 0);
	cp.seq = 0;
	CHECK_EQ_INT(hwg_kh_checkpoint_encode(&cp, b), HWG_E_INVALID);
	hwg_buf_reset(b);
	/* seal: id then exactly the template */
	CHECK_EQ_INT(hwg_kh_seal_encode("op.a-1_B", tmpl, b), 0);
	len = hwg_buf_len(b);
	memcpy(raw, hwg_buf_ptr(b), len);
	CHECK_EQ_INT(hwg_kh_seal_decode(b, id, &view, &err), 0);
	CHECK(strcmp(id, "op.a-1_B") == 0 && memcmp(view, tmpl, HWG_MATCH_DIM) == 0);
	for (size_t cut = 0; cut < len; cut++) {
		r = hwg_buf_from(raw, cut);
		CHECK_EQ_INT(hwg_kh_seal_decode(r, id, &view, &err), HWG_E_BAD_ARGS);
		hwg_buf_free(r);
	}
	raw[len] = 0;
	r = hwg_buf_from(raw, len + 1);
	CHECK_EQ_INT(hwg_kh_seal_decode(r, id, &view, &err), HWG_E_BAD_ARGS);
	hwg_buf_free(r);
	/* ids outside the grammar, sent raw */
	{
		const char *const bad_ids[] = {"op a", "op/x", "op\001", "", "é"};

		for (size_t i = 0; i < sizeof(bad_ids) / sizeof(bad_ids[0]); i++) {
			size_t n = strlen(bad_ids[i]);

			raw[0] = raw[1] = raw[2] = 0;
			raw[3] = (uint8_t)n;
			memcpy(raw + 4, bad_ids[i], n);
			memset(raw + 4 + n, 0, HWG_MATCH_DIM);
			r = hwg_buf_from(raw, 4 + n + HWG_MATCH_DIM);
			CHECK_EQ_INT(hwg_kh_seal_decode(r, id, &view, &err), HWG_E_BAD_ARGS);
			hwg_buf_free(r);
		}
		/* with a NUL inside */
		memcpy(raw, "\0\0\0\3a\0b", 7);
		r = hwg_buf_from(raw, 7 + HWG_MATCH_DIM);
		CHECK_EQ_INT(hwg_kh_seal_decode(r, id, &view, &err), HWG_E_BAD_ARGS);
		hwg_buf_free(r);
	}
	hwg_buf_reset(b);
	CHECK_EQ_INT(hwg_kh_seal_encode("", tmpl, b), HWG_E_INVALID);
	/* open: id then one string */
	hwg_buf_reset(b);
	CHECK_EQ_INT(hwg_kh_open_encode("op.a", (const uint8_t *)"PVS1xyz", 7, b), 0);
	CHECK_EQ_INT(hwg_kh_open_decode(b, id, &view, &len, &err), 0);
	CHECK(strcmp(id, "op.a") == 0 && len == 7 && memcmp(view, "PVS1xyz", 7) == 0);
	CHECK_EQ_INT(hwg_kh_open_encode("op.a", raw, HWG_KH_BLOB_MAX + 1, b), HWG_E_TOO_LARGE);
	/* sign_response: one string, nothing after */
	hwg_buf_reset(b);
	CHECK_EQ_INT(hwg_kh_sign_response_encode((const uint8_t *)"ab", 2, b), 0);
	CHECK_EQ_INT(hwg_buf_put_u8(b, 0), 0);
	CHECK_EQ_INT(hwg_kh_sign_response_decode(b, &view, &len, &err), HWG_E_BAD_ARGS);
	hwg_buf_free(b);
}

static void
test_info(void)
{
	struct hwg_keyholder_info in = {.present = 1,
	                                .logged_in = 1,
	                                .session_reopens = 3,
	                                .template_key = 1},
	                          out;
	EVP_PKEY *ec = EVP_EC_gen("P-256"), *ed = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	struct hwg_buf *b = hwg_buf_new(2048);
	struct hwg_error err = {0};
	uint8_t *p, raw[1024];
	size_t len;

	CHECK(ec != NULL && ed != NULL);
	strcpy(in.label, "hwgw");
	strcpy(in.manufacturer, "SoftHSM project");
	strcpy(in.model, "SoftHSM v2");
	strcpy(in.serial, "0123456789abcdef");
	in.response.alg = HWG_COSE_EDDSA;
	p = in.response.spki;
	in.response.spki_len = (size_t)i2d_PUBKEY(ed, &p);
	in.audit.alg = HWG_COSE_ES256;
	p = in.audit.spki;
	in.audit.spki_len = (size_t)i2d_PUBKEY(ec, &p);
	CHECK_EQ_INT(hwg_kh_info_encode(&in, b), 0);
	len = hwg_buf_len(b);
	memcpy(raw, hwg_buf_ptr(b), len);
	CHECK_EQ_INT(hwg_kh_info_decode(b, &out, &err), 0);
	CHECK(memcmp(&in, &out, sizeof(in)) == 0);
	/* every cut, and a byte after */
	for (size_t cut = 0; cut <= len; cut++) {
		struct hwg_buf *r = hwg_buf_from(raw, cut == len ? len + 1 : cut);

		CHECK_EQ_INT(hwg_kh_info_decode(r, &out, &err), HWG_E_BAD_ENCODING);
		hwg_buf_free(r);
	}
	/* an audit key that is not P-256, a key whose DER is not its algorithm's */
	hwg_buf_reset(b);
	in.audit = in.response;
	CHECK_EQ_INT(hwg_kh_info_encode(&in, b), 0);
	CHECK_EQ_INT(hwg_kh_info_decode(b, &out, &err), HWG_E_BAD_ENCODING);
	hwg_buf_reset(b);
	in.audit.alg = HWG_COSE_ES256;
	CHECK_EQ_INT(hwg_kh_info_encode(&in, b), 0);
	CHECK_EQ_INT(hwg_kh_info_decode(b, &out, &err), HWG_E_BAD_ENCODING);
	hwg_buf_free(b);
	EVP_PKEY_free(ec);
	EVP_PKEY_free(ed);
}

static struct hwg_certcode_summary
summary(void)
{
	struct hwg_certcode_summary s;

	memset(&s, 0, sizeof(s));
	strcpy(s.gw, "city-gw-01");
	strcpy(s.no, "city-gw-01-20260401-000042");
	memset(s.doc, 0x3c, sizeof(s.doc));
	strcpy(s.kind, "inkan");
	strcpy(s.date, "2026-04-01");
	strcpy(s.orig, "city-gw-01-20260301-000007");
	return s;
}

static void
test_certificates(void)
{
	struct hwg_certcode_summary s = summary(), back;
	struct hwg_buf *b = hwg_buf_new(1024), *r;
	struct hwg_error err = {0};
	char no[HWG_CERTCODE_NO_MAX + 1];
	uint8_t raw[600], digest[32], dback[32];
	size_t len;

	/* a summary, field by field; every cut and a byte after refused */
	CHECK_EQ_INT(hwg_kh_summary_encode(&s, b), 0);
	len = hwg_buf_len(b);
	memcpy(raw, hwg_buf_ptr(b), len);
	CHECK_EQ_INT(hwg_kh_summary_decode(b, &back, &err), 0);
	CHECK(memcmp(&back, &s, sizeof(s)) == 0);
	for (size_t cut = 0; cut <= len; cut++) {
		r = hwg_buf_from(raw, cut == len ? len + 1 : cut);
		CHECK_EQ_INT(hwg_kh_summary_decode(r, &back, &err), HWG_E_BAD_ARGS);
		hwg_buf_free(r);
	}
	/* a control byte in a field; a summary its check refuses (another gateway's number) */
	raw[4] = '\n';
	r = hwg_buf_from(raw, len);
	CHECK_EQ_INT(hwg_kh_summary_decode(r, &back, &err), HWG_E_BAD_ARGS);
	hwg_buf_free(r);
	s.no[0] = 'x';
	hwg_buf_reset(b);
	CHECK_EQ_INT(hwg_kh_summary_encode(&s, b), 0);
	CHECK_EQ_INT(hwg_kh_summary_decode(b, &back, &err), HWG_E_BAD_ARGS);
	CHECK(strstr(err.message, "summaries only") != NULL &&
	      strstr(err.message, "\"no\"") != NULL);
	s = summary();
	memset(s.kind, 'k', sizeof(s.kind)); /* no NUL: too long to encode */
	CHECK_EQ_INT(hwg_kh_summary_encode(&s, b), HWG_E_INVALID);
	/* a PDF: number, then exactly the digest */
	memset(digest, 0x77, sizeof(digest));
	hwg_buf_reset(b);
	CHECK_EQ_INT(hwg_kh_pdf_encode("city-gw-01-20260401-000042", digest, b), 0);
	len = hwg_buf_len(b);
	memcpy(raw, hwg_buf_ptr(b), len);
	CHECK_EQ_INT(hwg_kh_pdf_decode(b, no, dback, &err), 0);
	CHECK(strcmp(no, "city-gw-01-20260401-000042") == 0 && memcmp(dback, digest, 32) == 0);
	for (size_t cut = 0; cut <= len; cut++) {
		r = hwg_buf_from(raw, cut == len ? len + 1 : cut);
		CHECK_EQ_INT(hwg_kh_pdf_decode(r, no, dback, &err), HWG_E_BAD_ARGS);
		hwg_buf_free(r);
	}
	hwg_buf_reset(b);
	CHECK_EQ_INT(hwg_kh_pdf_encode("city-gw-01-20261301-000042", digest, b), 0);
	CHECK_EQ_INT(hwg_kh_pdf_decode(b, no, dback, &err), HWG_E_BAD_ARGS); /* month 13 */
	CHECK_EQ_INT(hwg_kh_pdf_encode("", digest, b), HWG_E_INVALID);
	hwg_buf_free(b);
}

static void
test_info_seal_key(void)
{
	struct hwg_keyholder_info in = {.present = 1, .logged_in = 1, .seal_key = 1}, out;
	EVP_PKEY *ec = EVP_EC_gen("P-256"), *ed = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	struct hwg_buf *b = hwg_buf_new(2048);
	struct hwg_error err = {0};
	uint8_t *p;

	REQUIRE(ec != NULL && ed != NULL && b != NULL);
	in.response.alg = in.audit.alg = in.seal.alg = HWG_COSE_ES256;
	p = in.response.spki;
	in.response.spki_len = (size_t)i2d_PUBKEY(ec, &p);
	in.audit = in.seal = in.response;
	CHECK_EQ_INT(hwg_kh_info_encode(&in, b), 0);
	CHECK_EQ_INT(hwg_kh_info_decode(b, &out, &err), 0);
	CHECK(out.seal_key == 1 && out.seal.spki_len == in.seal.spki_len &&
	      memcmp(out.seal.spki, in.seal.spki, in.seal.spki_len) == 0);
	/* a seal key that is not P-256 */
	hwg_buf_reset(b);
	in.seal.alg = HWG_COSE_EDDSA;
	p = in.seal.spki;
	in.seal.spki_len = (size_t)i2d_PUBKEY(ed, &p);
	CHECK_EQ_INT(hwg_kh_info_encode(&in, b), 0);
	CHECK_EQ_INT(hwg_kh_info_decode(b, &out, &err), HWG_E_BAD_ENCODING);
	/* none: no key follows the flag, and a key after it is refused */
	hwg_buf_reset(b);
	in.seal_key = 0;
	CHECK_EQ_INT(hwg_kh_info_encode(&in, b), 0);
	CHECK_EQ_INT(hwg_kh_info_decode(b, &out, &err), 0);
	CHECK_EQ_INT(out.seal_key, 0);
	hwg_buf_free(b);
	EVP_PKEY_free(ec);
	EVP_PKEY_free(ed);
}

int
main(void)
{
	HWG_RUN(test_response_check);
	HWG_RUN(test_response_check_mutants);
	HWG_RUN(test_reply);
	HWG_RUN(test_requests);
	HWG_RUN(test_info);
	HWG_RUN(test_certificates);
	HWG_RUN(test_info_seal_key);
	return HWG_TEST_END();
}
