/*
 * test_frontdoor.c — the gateway as an attacker outside sees it (issue
 * 13), against a running hwgwd: requests built from RFC 9052, RFC 8949,
 * RFC 9112 and gateway/api.cddl, sent over raw sockets where a client
 * library would not send them.  One test per finding; each asserts the
 * HTTP status, the signed code, and what the audit holds, and every
 * answer is read with a strict CBOR reader (tests/lib/strict_cbor.h).
 *
 *   slow clients      twice max_connections dribbling connections (from
 *                     127.0.0.2 and as uid 65534) leave a fresh client
 *                     answered within a second on both transports; the
 *                     dribblers are cut at their deadline, counted in
 *                     /metrics, logged rate-limited, never audited
 *   too_large         refused on the Content-Length, before any body
 *                     byte, without 100 Continue
 *   Content-Length    given twice: 400
 *   NUL in the path   /v1/gw.info%00x: 400, gw.info does not run
 *   UTF-8             every answer valid UTF-8, logs escaped
 *   tag 18            an untagged COSE_Sign1 refused on both transports
 *   t >= 2^63         clock_skew, not bad_encoding
 *   two Origins       400
 *   expiry            a request older than t + max_age is refused
 *                     expired; request.status says what became of each
 *
 * Run by test_frontdoor.sh (max_connections 16, header_timeout 2,
 * request_timeout 3, max_age 2).  Environment: GW, GW_URL, GW_PORT, GW_ID;
 * FRONTDOOR_ONLY=word runs only the tests whose name holds word;
 * FRONTDOOR_SLACK=n multiplies the upper bounds on time (hwgwd under
 * valgrind answers slower; the bounds the gateway keeps stay as they are).
 */
#include <arpa/inet.h>
#include <cbor.h>
#include <errno.h>
#include <grp.h>
#include <openssl/sha.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "gwclient.h"
#include "hwg_cbor.h"
#include "hwg_cose.h"
#include "hwg_test.h"
#include "hwg_time.h"
#include "hwgw.h"
#include "strict_cbor.h"

#define MAX_CONNECTIONS 16 /* as test_frontdoor.sh configures */
#define PER_PEER (MAX_CONNECTIONS / 2)
#define HEADER_TIMEOUT_MS 2000
#define MAX_AGE_MS 2000
#define DRIBBLERS (2 * MAX_CONNECTIONS)
#define NOBODY 65534

static unsigned gw_port;
static int slack = 1; /* FRONTDOOR_SLACK */
static char log_path[512];
static EVP_PKEY *counter_key;
static struct hwgw_ctx *counter, *auditor;

/* ---------------------------------------------------------------- the store */

static long long
audit_count(void)
{
	return db_int("SELECT count(*) FROM audit");
}

/* ---------------------------------------------------------------- requests */

/*
 * A request signed with counter's key, made by hand (what libhwgw will not
 * build): t as a uint64, aud as raw text bytes; tagged or not.
 */
static uint8_t *
hand_request(uint64_t t, const char *aud, size_t aud_len, int tagged, size_t *len)
{
	cbor_item_t *m = cbor_new_definite_map(7);
	uint8_t nonce[16], *payload = NULL, *out = NULL;
	size_t cap = 0, n;
	struct hwg_error err = {0};

	for (size_t i = 0; i < sizeof(nonce); i++)
		nonce[i] = (uint8_t)rand();
	hwg_cbor_map_put_uint(m, "v", 1);
	hwg_cbor_map_put_text(m, "op", "gw.info");
	hwg_cbor_map_put_item(m, "aud", cbor_build_stringn(aud, aud_len));
	hwg_cbor_map_put_text(m, "cid", "counter");
	hwg_cbor_map_put_item(m, "t", cbor_build_uint64(t));
	hwg_cbor_map_put_bytes(m, "nonce", nonce, sizeof(nonce));
	hwg_cbor_map_put_item(m, "args", cbor_new_definite_map(0));
	n = cbor_serialize_alloc(m, &payload, &cap);
	cbor_decref(&m);
	if (n == 0 || hwg_cose_sign1_encode(HWG_COSE_EDDSA, payload, n, hwg_cose_evp_signer,
	                                    counter_key, &out, len, &err) != 0) {
		fprintf(stderr, "hand request: %s\n", err.message);
		exit(2);
	}
	free(payload);
	if (!tagged) { /* 0xd2 is the one-byte tag 18 */
		memmove(out, out + 1, *len - 1);
		(*len)--;
	}
	return out;
}

static uint8_t *
build(struct hwgw_ctx *c, const char *op, cbor_item_t *args, const struct hwgw_request_opts *o,
      size_t *len)
{
	uint8_t *req = NULL;
	struct hwg_error err = {0};

	if (hwgw_request_build(c, op, args, o, &req, len, &err) != 0) {
		fprintf(stderr, "build: %s\n", err.message);
		exit(2);
	}
	return req;
}

/* ---------------------------------------------------------------- raw HTTP */

struct http_answer {
	int status;    /* of the final answer, 0 if none */
	int continued; /* a 100 Continue came first */
	uint8_t *body; /* malloc'd */
	size_t len;
	double seconds; /* from the last byte sent to the answer's end (or EOF) */
};

static int
tcp_connect(const char *src)
{
	struct sockaddr_in sa = {.sin_family = AF_INET}, from = {.sin_family = AF_INET};
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	sa.sin_port = htons((uint16_t)gw_port);
	inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
	if (fd < 0)
		return -1;
	if (src != NULL) {
		inet_pton(AF_INET, src, &from.sin_addr);
		if (bind(fd, (struct sockaddr *)&from, sizeof(from)) != 0) {
			close(fd);
			return -1;
		}
	}
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* The end of the head in buf, or NULL. */
static const uint8_t *
head_end(const uint8_t *buf, size_t len)
{
	for (size_t i = 0; i + 3 < len; i++)
		if (memcmp(buf + i, "\r\n\r\n", 4) == 0)
			return buf + i + 4;
	return NULL;
}

/*
 * Send head then body (len bytes, may be 0) and read the answer until it
 * is whole, the peer closes, or timeout_ms passes.
 */
static void
http_raw(const char *head, const uint8_t *body, size_t body_len, int timeout_ms,
         struct http_answer *a)
{
	uint8_t buf[16384];
	size_t got = 0;
	int fd = tcp_connect(NULL);
	double t0;
	int64_t end;

	memset(a, 0, sizeof(*a));
	if (fd < 0)
		return;
	if (send(fd, head, strlen(head), MSG_NOSIGNAL) < 0 ||
	    (body_len > 0 && send(fd, body, body_len, MSG_NOSIGNAL) < 0)) {
		close(fd);
		return;
	}
	t0 = hwg_mono_seconds();
	end = hwg_mono_ms() + timeout_ms;
	for (;;) {
		struct pollfd p = {fd, POLLIN, 0};
		const uint8_t *e;
		ssize_t n;

		if (hwg_mono_ms() >= end || poll(&p, 1, (int)(end - hwg_mono_ms())) != 1)
			break;
		if ((n = recv(fd, buf + got, sizeof(buf) - got, 0)) <= 0)
			break;
		got += (size_t)n;
		/* a 100 Continue first: note it and drop it */
		if (got >= 12 && memcmp(buf, "HTTP/1.1 100", 12) == 0 &&
		    (e = head_end(buf, got)) != NULL) {
			a->continued = 1;
			memmove(buf, e, got - (size_t)(e - buf));
			got -= (size_t)(e - buf);
		}
		if ((e = head_end(buf, got)) != NULL) {
			const char *cl = strstr((const char *)buf, "Content-Length: ");
			size_t want = cl != NULL ? strtoul(cl + 16, NULL, 10) : 0;

			if (got - (size_t)(e - buf) >= want)
				break;
		}
		if (got == sizeof(buf))
			break;
	}
	a->seconds = hwg_mono_seconds() - t0;
	close(fd);
	if (got >= 12 && memcmp(buf, "HTTP/1.", 7) == 0)
		a->status = atoi((const char *)buf + 9);
	if (head_end(buf, got) != NULL) {
		const uint8_t *e = head_end(buf, got);

		a->len = got - (size_t)(e - buf);
		a->body = malloc(a->len + 1);
		memcpy(a->body, e, a->len);
	}
}

/*
 * An HTTP refusal made on the headers: status, signed code over the zero
 * bytes, and one audit record with that result and no request hash.
 */
static void
expect_header_refusal(const char *head, const uint8_t *body, size_t body_len, int status,
                      const char *code)
{
	long long audit0 = audit_count();
	struct http_answer a;
	struct hwgw_response r;
	struct last_record last;

	http_raw(head, body, body_len, 5000, &a);
	CHECK_EQ_INT(a.status, status);
	CHECK_EQ_INT(a.continued, 0);
	CHECK(a.seconds < 1.0 * slack);
	if (a.body != NULL && check_answer(NULL, 0, a.body, a.len, counter, &r) == 0) {
		CHECK_EQ_STR(r.error_code, code);
		hwgw_response_clear(&r);
	} else {
		CHECK(!"a signed answer");
	}
	free(a.body);
	CHECK_EQ_INT(audit_count(), audit0 + 1);
	db_last(&last);
	CHECK_EQ_STR(last.result, code);
	CHECK_EQ_STR(last.operation, "");
	CHECK_EQ_INT(last.has_req, 0); /* nothing of a request was read */
}

/* ---------------------------------------------------------------- 2. too_large */

static void
test_too_large_before_the_body(void)
{
	/* no body at all: the answer comes at once, not after connection_timeout */
	expect_header_refusal("POST /v1/gw.info HTTP/1.1\r\nHost: gw\r\n"
	                      "Content-Type: application/cose\r\nContent-Length: 1000000\r\n\r\n",
	                      NULL, 0, 413, "too_large");
	/* Expect: 100-continue: no 100 Continue for a body that will be refused */
	expect_header_refusal("POST /v1/gw.info HTTP/1.1\r\nHost: gw\r\n"
	                      "Content-Type: application/cose\r\nExpect: 100-continue\r\n"
	                      "Content-Length: 1048576\r\n\r\n",
	                      NULL, 0, 413, "too_large");
	/* just over the limit, with the first body bytes already sent */
	expect_header_refusal("POST /v1/gw.info HTTP/1.1\r\nHost: gw\r\n"
	                      "Content-Type: application/cose\r\nContent-Length: 65537\r\n\r\n",
	                      (const uint8_t *)"\xd2\x84", 2, 413, "too_large");
}

/* ---------------------------------------------------------------- 3. Content-Length */

static void
test_content_length_twice(void)
{
	size_t len;
	uint8_t *req = build(counter, "gw.info", NULL, NULL, &len);
	char head[256];

	/* the first would have said 3 and left the rest as a second request */
	snprintf(head, sizeof(head),
	         "POST /v1/gw.info HTTP/1.1\r\nHost: gw\r\nContent-Type: application/cose\r\n"
	         "Content-Length: 3\r\nContent-Length: %zu\r\n\r\n",
	         len);
	expect_header_refusal(head, req, len, 400, "bad_encoding");
	snprintf(head, sizeof(head),
	         "POST /v1/gw.info HTTP/1.1\r\nHost: gw\r\nContent-Type: application/cose\r\n"
	         "Content-Length: %zu\r\nContent-Length: %zu\r\n\r\n",
	         len, len);
	expect_header_refusal(head, req, len, 400, "bad_encoding");
	/* RFC 9112 §6.1: both Content-Length and Transfer-Encoding */
	snprintf(head, sizeof(head),
	         "POST /v1/gw.info HTTP/1.1\r\nHost: gw\r\nContent-Type: application/cose\r\n"
	         "Content-Length: %zu\r\nTransfer-Encoding: chunked\r\n\r\n",
	         len);
	expect_header_refusal(head, NULL, 0, 400, "bad_encoding");
	free(req);
}

/* ---------------------------------------------------------------- 4. the path */

static void
test_path_outside_the_grammar(void)
{
	static const char *const paths[] = {"gw.info%00x", "gw%2einfo", "%ff", "gw.info%20",
	                                    "GW.INFO"};
	size_t len;
	uint8_t *req = build(counter, "gw.info", NULL, NULL, &len);
	char head[256];

	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		long long ok0 = db_int("SELECT count(*) FROM audit WHERE result = 'ok'");

		snprintf(head, sizeof(head),
		         "POST /v1/%s HTTP/1.1\r\nHost: gw\r\nContent-Type: application/cose\r\n"
		         "Content-Length: %zu\r\n\r\n",
		         paths[i], len);
		expect_header_refusal(head, req, len, 400, "bad_encoding");
		/* gw.info did not run */
		CHECK_EQ_INT(db_int("SELECT count(*) FROM audit WHERE result = 'ok'"), ok0);
	}
	free(req);
}

/* ---------------------------------------------------------------- 8. Origin */

static void
test_origin_twice(void)
{
	size_t len;
	uint8_t *req = build(counter, "gw.info", NULL, NULL, &len);
	char head[320];

	snprintf(head, sizeof(head),
	         "POST /v1/gw.info HTTP/1.1\r\nHost: gw\r\nOrigin: http://localhost:8080\r\n"
	         "Origin: http://evil.example\r\nContent-Type: application/cose\r\n"
	         "Content-Length: %zu\r\n\r\n",
	         len);
	expect_header_refusal(head, req, len, 400, "bad_encoding");
	snprintf(head, sizeof(head),
	         "POST /v1/gw.info HTTP/1.1\r\nHost: gw\r\nOrigin: http://localhost:8080\r\n"
	         "Origin: http://localhost:8080\r\nContent-Type: application/cose\r\n"
	         "Content-Length: %zu\r\n\r\n",
	         len);
	expect_header_refusal(head, req, len, 400, "bad_encoding");
	free(req);
}

/* ---------------------------------------------------------------- 5. UTF-8 */

/* The whole log is valid UTF-8 without raw control characters (one event, one line). */
static int
log_clean(void)
{
	FILE *f = fopen(log_path, "rb");
	uint8_t *text;
	long n;
	int ok;

	if (f == NULL)
		return 0;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	text = malloc((size_t)n + 1);
	ok = text != NULL && fread(text, 1, (size_t)n, f) == (size_t)n &&
	     strict_utf8(text, (size_t)n);
	for (long i = 0; ok && i < n; i++)
		if ((text[i] < 0x20 && text[i] != '\n') || text[i] == 0x7f)
			ok = 0;
	free(text);
	fclose(f);
	return ok;
}

static int
log_has(const char *s)
{
	char line[2048];
	FILE *f = fopen(log_path, "r");
	int found = 0;

	while (f != NULL && !found && fgets(line, sizeof(line), f) != NULL)
		found = strstr(line, s) != NULL;
	if (f != NULL)
		fclose(f);
	return found;
}

static void
test_answers_and_logs_are_utf8(void)
{
	struct hwgw_response r;
	uint8_t *req;
	size_t len;
	long status;
	long long audit0;
	struct last_record last;
	struct hwgw_request_opts o = {.audience = "x\"y\x01z"};
	char head[256];

	/* the case: a signed gw.info under a URL whose operation is not UTF-8 */
	req = build(counter, "gw.info", NULL, NULL, &len);
	snprintf(head, sizeof(head),
	         "POST /v1/%%ff HTTP/1.1\r\nHost: gw\r\nContent-Type: application/cose\r\n"
	         "Content-Length: %zu\r\n\r\n",
	         len);
	expect_header_refusal(head, req, len, 400, "bad_encoding");
	free(req);
	/* a signed request whose text is not UTF-8: refused, and the answer still is */
	req = hand_request((uint64_t)time(NULL) * 1000, "\xff\xfe", 2, 1, &len);
	for (int t = UNIX; t <= HTTP; t++) {
		audit0 = audit_count();
		CHECK_EQ_INT(send_req((enum transport)t, "gw.info", req, len, counter, &r, &status),
		             0);
		CHECK_EQ_STR(r.error_code, "bad_encoding");
		CHECK(strstr(r.error_message, "UTF-8") != NULL);
		CHECK(t == UNIX || status == 400);
		hwgw_response_clear(&r);
		CHECK_EQ_INT(audit_count(), audit0 + 1);
		db_last(&last);
		CHECK_EQ_STR(last.result, "bad_encoding");
	}
	free(req);
	/* quotes and a control character from the client: the log line stays one value */
	req = build(counter, "gw.info", NULL, &o, &len);
	CHECK_EQ_INT(send_req(UNIX, NULL, req, len, counter, &r, &status), 0);
	CHECK_EQ_STR(r.error_code, "wrong_audience");
	hwgw_response_clear(&r);
	free(req);
	CHECK(log_has("msg=\"request is for gateway \\\"x\\\"y\\x01z\\\"\""));
	CHECK(log_clean());
}

/* ---------------------------------------------------------------- 6. tag 18 */

static void
test_untagged_refused(void)
{
	size_t len;
	uint8_t *req = hand_request((uint64_t)time(NULL) * 1000, gw_id, strlen(gw_id), 0, &len);
	struct hwgw_response r;
	struct last_record last;
	long status;

	CHECK(req[0] == 0x84); /* the array, no tag */
	for (int t = UNIX; t <= HTTP; t++) {
		long long audit0 = audit_count(), ok0 = db_int("SELECT count(*) FROM audit WHERE "
		                                               "result = 'ok'");

		CHECK_EQ_INT(send_req((enum transport)t, "gw.info", req, len, counter, &r, &status),
		             0);
		CHECK_EQ_STR(r.error_code, "bad_encoding");
		CHECK(strstr(r.error_message, "tag 18") != NULL);
		CHECK(t == UNIX || status == 400);
		hwgw_response_clear(&r);
		CHECK_EQ_INT(audit_count(), audit0 + 1);
		CHECK_EQ_INT(db_int("SELECT count(*) FROM audit WHERE result = 'ok'"), ok0);
		db_last(&last);
		CHECK_EQ_STR(last.result, "bad_encoding");
		CHECK_EQ_INT(last.has_req, 1); /* its bytes were read */
	}
	free(req);
}

/* ---------------------------------------------------------------- 7. t beyond int64 */

static void
test_time_beyond_range_is_clock_skew(void)
{
	static const uint64_t times[] = {(uint64_t)1 << 63, UINT64_MAX};

	for (size_t i = 0; i < sizeof(times) / sizeof(times[0]); i++) {
		size_t len;
		uint8_t *req = hand_request(times[i], gw_id, strlen(gw_id), 1, &len);

		for (int t = UNIX; t <= HTTP; t++) {
			long long audit0 = audit_count();
			long long nonces0 = db_int("SELECT count(*) FROM nonces");
			struct hwgw_response r;
			struct last_record last;
			long status;

			CHECK_EQ_INT(
			    send_req((enum transport)t, "gw.info", req, len, counter, &r, &status),
			    0);
			CHECK_EQ_STR(r.error_code, "clock_skew");
			CHECK(t == UNIX || status == 401);
			hwgw_response_clear(&r);
			CHECK_EQ_INT(audit_count(), audit0 + 1);
			CHECK_EQ_INT(db_int("SELECT count(*) FROM nonces"), nonces0);
			db_last(&last);
			CHECK_EQ_STR(last.result, "clock_skew");
			CHECK_EQ_STR(last.client, "counter");
		}
		free(req);
	}
}

/* ---------------------------------------------------------------- 9. expiry, request.status */

static cbor_item_t *
status_args(const uint8_t *bytes, size_t len)
{
	uint8_t h[32];
	cbor_item_t *a = cbor_new_definite_map(1);

	SHA256(bytes, len, h);
	hwg_cbor_map_put_bytes(a, "req", h, sizeof(h));
	return a;
}

/* request.status of bytes, asked by c over t: the state, and code ("" if none). */
static void
ask_status(enum transport t, struct hwgw_ctx *c, const uint8_t *bytes, size_t len, char *state,
           char *code, long long *seq)
{
	cbor_item_t *a = status_args(bytes, len);
	size_t qlen;
	uint8_t *q = build(c, "request.status", a, NULL, &qlen);
	struct hwgw_response r;
	long status;
	uint64_t u = 0;

	cbor_decref(&a);
	state[0] = code[0] = '\0';
	*seq = 0;
	CHECK_EQ_INT(send_req(t, "request.status", q, qlen, c, &r, &status), 0);
	CHECK(r.result != NULL);
	if (r.result != NULL) {
		hwg_cbor_text_copy(hwg_cbor_map_get(r.result, "state", NULL), state, 16);
		hwg_cbor_text_copy(hwg_cbor_map_get(r.result, "code", NULL), code, 48);
		if (hwg_cbor_uint(hwg_cbor_map_get(r.result, "seq", NULL), &u) == 0)
			*seq = (long long)u;
		CHECK(hwg_cbor_uint(hwg_cbor_map_get(r.result, "max_age_ms", NULL), &u) == 0 &&
		      u == MAX_AGE_MS);
	}
	hwgw_response_clear(&r);
	free(q);
}

static void
test_expired_request_not_started(void)
{
	for (int t = UNIX; t <= HTTP; t++) {
		/* in the clock window (30 s), past max_age (2 s): it waited too long somewhere */
		struct hwgw_request_opts o = {.time_ms = (int64_t)time(NULL) * 1000 - 5000};
		size_t len;
		uint8_t *req = build(counter, "gw.info", NULL, &o, &len), h[32];
		long long audit0 = audit_count(), nonces0 = db_int("SELECT count(*) FROM nonces");
		struct hwgw_response r;
		struct last_record last;
		char state[16], code[48];
		long long seq;
		long status;

		CHECK_EQ_INT(send_req((enum transport)t, "gw.info", req, len, counter, &r, &status),
		             0);
		CHECK_EQ_STR(r.error_code, "expired");
		CHECK(t == UNIX || status == 503);
		hwgw_response_clear(&r);
		CHECK_EQ_INT(audit_count(), audit0 + 1);
		CHECK_EQ_INT(db_int("SELECT count(*) FROM nonces"), nonces0); /* never started */
		db_last(&last);
		CHECK_EQ_STR(last.result, "expired");
		CHECK_EQ_STR(last.operation, "gw.info");
		SHA256(req, len, h);
		CHECK(last.has_req && memcmp(last.req, h, 32) == 0);
		ask_status((enum transport)t, counter, req, len, state, code, &seq);
		CHECK_EQ_STR(state, "refused");
		CHECK_EQ_STR(code, "expired");
		CHECK_EQ_INT(seq, last.seq);
		free(req);
	}
}

static void
test_request_status(void)
{
	size_t len, len2, len3;
	uint8_t *ran = build(counter, "gw.info", NULL, NULL, &len);
	struct hwgw_request_opts old = {.time_ms = (int64_t)time(NULL) * 1000 - 60000};
	uint8_t *skewed = build(counter, "gw.info", NULL, &old, &len2);
	uint8_t *other = build(auditor, "gw.info", NULL, NULL, &len3);
	struct hwgw_response r;
	struct last_record last;
	char state[16], code[48];
	long long seq, ran_seq;
	long status;

	CHECK_EQ_INT(send_req(HTTP, "gw.info", ran, len, counter, &r, &status), 0);
	CHECK(r.result != NULL);
	hwgw_response_clear(&r);
	db_last(&last);
	ran_seq = last.seq;
	/* the same bytes again: refused as a replay, and still it ran once */
	CHECK_EQ_INT(send_req(UNIX, NULL, ran, len, counter, &r, &status), 0);
	CHECK_EQ_STR(r.error_code, "replayed_nonce");
	hwgw_response_clear(&r);
	for (int t = UNIX; t <= HTTP; t++) {
		ask_status((enum transport)t, counter, ran, len, state, code, &seq);
		CHECK_EQ_STR(state, "ran");
		CHECK_EQ_STR(code, "ok");
		CHECK_EQ_INT(seq, ran_seq);
	}
	CHECK_EQ_INT(send_req(UNIX, NULL, skewed, len2, counter, &r, &status), 0);
	CHECK_EQ_STR(r.error_code, "clock_skew");
	hwgw_response_clear(&r);
	ask_status(UNIX, counter, skewed, len2, state, code, &seq);
	CHECK_EQ_STR(state, "refused");
	CHECK_EQ_STR(code, "clock_skew");
	/* never sent */
	ask_status(HTTP, counter, (const uint8_t *)"never sent", 10, state, code, &seq);
	CHECK_EQ_STR(state, "unknown");
	CHECK_EQ_STR(code, "");
	/* another client's request, though it ran, is not this client's to know */
	CHECK_EQ_INT(send_req(UNIX, NULL, other, len3, auditor, &r, &status), 0);
	CHECK(r.result != NULL);
	hwgw_response_clear(&r);
	ask_status(UNIX, counter, other, len3, state, code, &seq);
	CHECK_EQ_STR(state, "unknown");
	ask_status(UNIX, auditor, other, len3, state, code, &seq);
	CHECK_EQ_STR(state, "ran");
	/* request.status is audited too, naming the request it asked about */
	db_last(&last);
	CHECK_EQ_STR(last.operation, "request.status");
	CHECK_EQ_STR(last.result, "ok");
	CHECK(db_int("SELECT count(*) FROM audit WHERE operation = 'request.status' AND "
	             "detail LIKE 'req=% state=ran'") >= 3);
	free(ran);
	free(skewed);
	free(other);
}

/* ---------------------------------------------------------------- 1. slow clients */

struct dribble_stats {
	int http_open, unix_open;       /* still open half a second in */
	int http_cut, unix_cut;         /* closed by the gateway near their deadline */
	int http_refused, unix_refused; /* closed by the gateway at once */
};

/*
 * The child: DRIBBLERS connections over HTTP from 127.0.0.2 and DRIBBLERS
 * on the Unix socket as uid 65534, each sent one byte a second for
 * seconds; when the gateway closes each is noted.  Writes the stats to out.
 */
static void
dribble(int ready, int out, int seconds)
{
	static const char http_head[] = "POST /v1/gw.info HTTP/1.1\r\nHost: gw\r\n"
	                                "Content-Type: application/cose\r\n"
	                                "Content-Length: 64\r\n\r\n";
	static const uint8_t frame[8] = {0, 0, 0, 64, 0xd2, 0x84, 0x43, 0xa1};
	int fds[2 * DRIBBLERS];
	int64_t closed_ms[2 * DRIBBLERS], t0;
	size_t sent[2 * DRIBBLERS] = {0};
	struct dribble_stats st = {0};

	for (int i = 0; i < DRIBBLERS; i++)
		fds[i] = tcp_connect("127.0.0.2");
	/* root's group stays (the socket is 0660 root:root), the uid is nobody's */
	if (setgroups(0, NULL) != 0 || setresgid(0, 0, 0) != 0 ||
	    setresuid(NOBODY, NOBODY, NOBODY) != 0)
		_exit(3);
	for (int i = DRIBBLERS; i < 2 * DRIBBLERS; i++)
		fds[i] = unix_connect();
	t0 = hwg_mono_ms();
	for (int i = 0; i < 2 * DRIBBLERS; i++)
		closed_ms[i] = fds[i] < 0 ? 0 : -1;
	(void)!write(ready, "r", 1);
	for (int64_t next = t0; hwg_mono_ms() < t0 + seconds * 1000;) {
		struct pollfd p[2 * DRIBBLERS];
		int64_t now = hwg_mono_ms();

		if (now >= next) { /* one byte each */
			for (int i = 0; i < 2 * DRIBBLERS; i++) {
				const uint8_t *src =
				    i < DRIBBLERS ? (const uint8_t *)http_head : frame;
				size_t max = i < DRIBBLERS ? sizeof(http_head) - 1 : sizeof(frame);

				if (closed_ms[i] < 0 && sent[i] < max &&
				    send(fds[i], src + sent[i], 1, MSG_NOSIGNAL) == 1)
					sent[i]++;
			}
			next += 1000;
		}
		for (int i = 0; i < 2 * DRIBBLERS; i++)
			p[i] = (struct pollfd){closed_ms[i] < 0 ? fds[i] : -1, POLLIN, 0};
		if (poll(p, 2 * DRIBBLERS, (int)(next - hwg_mono_ms())) > 0)
			for (int i = 0; i < 2 * DRIBBLERS; i++) {
				char c;

				if (p[i].revents != 0 && recv(fds[i], &c, 1, MSG_DONTWAIT) <= 0)
					closed_ms[i] = hwg_mono_ms() - t0;
			}
	}
	for (int i = 0; i < 2 * DRIBBLERS; i++) {
		int http = i < DRIBBLERS;
		int64_t c = closed_ms[i];

		if (c >= 0 && c < 500)
			*(http ? &st.http_refused : &st.unix_refused) += 1;
		else
			*(http ? &st.http_open : &st.unix_open) += 1;
		/* cut in the head: header_timeout after the first byte, give or take */
		if (c >= HEADER_TIMEOUT_MS - 200 && c <= HEADER_TIMEOUT_MS + 1500 * slack)
			*(http ? &st.http_cut : &st.unix_cut) += 1;
	}
	(void)!write(out, &st, sizeof(st));
	_exit(0);
}

/* A gw.info over t from a fresh client: its time, or a large one on failure. */
static double
fresh_call(enum transport t)
{
	struct hwgw_response r;
	size_t len;
	uint8_t *req = build(counter, "gw.info", NULL, NULL, &len);
	double t0 = hwg_mono_seconds(), dt;
	long status;
	int ok = send_req(t, "gw.info", req, len, counter, &r, &status) == 0 && r.result != NULL;

	dt = hwg_mono_seconds() - t0;
	hwgw_response_clear(&r);
	free(req);
	return ok ? dt : 99.0;
}

/* The value of one counter line of /metrics. */
static long long
metric(const char *name)
{
	struct http_answer a;
	long long v = -1;
	char *p;

	http_raw("GET /metrics HTTP/1.1\r\nHost: gw\r\nConnection: close\r\n\r\n", NULL, 0, 5000,
	         &a);
	if (a.body != NULL) {
		a.body[a.len] = '\0';
		if ((p = strstr((char *)a.body, name)) != NULL)
			v = strtoll(p + strlen(name), NULL, 10);
	}
	free(a.body);
	return v;
}

static int
count_log(const char *s)
{
	char line[2048];
	FILE *f = fopen(log_path, "r");
	int n = 0;

	while (f != NULL && fgets(line, sizeof(line), f) != NULL)
		n += strstr(line, s) != NULL;
	if (f != NULL)
		fclose(f);
	return n;
}

static void
test_slow_clients_leave_room(void)
{
	int ready[2], out[2], status = 0, calls = 0, limit_lines0, timeout_lines0;
	long long audit0 = audit_count();
	struct dribble_stats st = {0};
	pid_t pid;

	limit_lines0 = count_log("event=http.limit") + count_log("event=unix.limit");
	timeout_lines0 = count_log("event=http.timeout") + count_log("event=unix.timeout");
	CHECK(pipe(ready) == 0 && pipe(out) == 0);
	if ((pid = fork()) == 0)
		dribble(ready[1], out[1], 5);
	CHECK(pid > 0 && read(ready[0], &status, 1) == 1);
	/* while twice max_connections dribble, fresh clients on both transports */
	for (int round = 0; round < 3; round++) {
		usleep(round == 0 ? 300 * 1000 : 600 * 1000);
		for (int t = UNIX; t <= HTTP; t++) {
			double dt = fresh_call((enum transport)t);

			if (dt >= 1.0 * slack)
				fprintf(stderr, "  round %d, %s: %.3f s\n", round,
				        transport_names[t], dt);
			CHECK(dt < 1.0 * slack);
			calls++;
		}
	}
	CHECK(read(out[0], &st, sizeof(st)) == (ssize_t)sizeof(st));
	CHECK(waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0);
	fprintf(stderr,
	        "  http: %d refused, %d served, %d cut in the head; unix: %d refused, %d served, "
	        "%d cut in the head\n",
	        st.http_refused, st.http_open, st.http_cut, st.unix_refused, st.unix_open,
	        st.unix_cut);
	/* one peer, one uid: at most their share of the slots, each cut at its deadline */
	CHECK_EQ_INT(st.http_open, PER_PEER);
	CHECK_EQ_INT(st.http_refused, DRIBBLERS - PER_PEER);
	CHECK_EQ_INT(st.http_cut, PER_PEER);
	CHECK_EQ_INT(st.unix_open, PER_PEER);
	CHECK_EQ_INT(st.unix_refused, DRIBBLERS - PER_PEER);
	CHECK_EQ_INT(st.unix_cut, PER_PEER);
	/* counted in /metrics */
	CHECK(metric("hwgw_connections_refused_total{transport=\"http\",reason=\"per_peer\"} ") >=
	      DRIBBLERS - PER_PEER);
	CHECK(metric("hwgw_connections_refused_total{transport=\"unix\",reason=\"per_uid\"} ") >=
	      DRIBBLERS - PER_PEER);
	CHECK(metric("hwgw_request_timeouts_total{transport=\"http\",phase=\"head\"} ") >=
	      PER_PEER);
	CHECK(metric("hwgw_request_timeouts_total{transport=\"unix\",phase=\"head\"} ") >=
	      PER_PEER);
	/* not audited one by one: only the fresh clients' requests */
	CHECK_EQ_INT(audit_count(), audit0 + calls);
	/* and logged at most once a second for each kind */
	CHECK(count_log("event=http.limit") + count_log("event=unix.limit") - limit_lines0 <= 4);
	CHECK(count_log("event=http.limit") + count_log("event=unix.limit") - limit_lines0 >= 2);
	CHECK(count_log("event=http.timeout") + count_log("event=unix.timeout") - timeout_lines0 <=
	      6);
	CHECK(log_clean());
}

/* A body that dribbles past request_timeout is cut too, though its head came at once. */
static void
test_slow_body_cut(void)
{
	static const char head[] = "POST /v1/gw.info HTTP/1.1\r\nHost: gw\r\n"
	                           "Content-Type: application/cose\r\nContent-Length: 64\r\n\r\n";
	long long body0 = metric("hwgw_request_timeouts_total{transport=\"http\",phase=\"body\"} ");
	int fd = tcp_connect(NULL);
	int64_t t0 = hwg_mono_ms(), closed = -1;

	CHECK(fd >= 0 && send(fd, head, sizeof(head) - 1, MSG_NOSIGNAL) > 0);
	for (int i = 0; fd >= 0 && i < 8 && closed < 0; i++) {
		struct pollfd p = {fd, POLLIN, 0};
		char c;

		(void)!send(fd, "x", 1, MSG_NOSIGNAL);
		if (poll(&p, 1, 1000) == 1 && recv(fd, &c, 1, 0) <= 0)
			closed = hwg_mono_ms() - t0;
	}
	if (fd >= 0)
		close(fd);
	fprintf(stderr, "  cut after %lld ms\n", (long long)closed);
	CHECK(closed >= 2800 && closed <= 3000 + 1500 * slack); /* request_timeout = 3 */
	CHECK_EQ_INT(metric("hwgw_request_timeouts_total{transport=\"http\",phase=\"body\"} "),
	             body0 + 1);
}

/* HWG_RUN, unless FRONTDOOR_ONLY names other tests. */
#define RUN(fn)                                                                                    \
	do {                                                                                       \
		const char *only = getenv("FRONTDOOR_ONLY");                                       \
		if (only == NULL || strstr(#fn, only) != NULL)                                     \
			HWG_RUN(fn);                                                               \
	} while (0)

int
main(void)
{
	int rc = gw_init("test_frontdoor.sh", "GW_PORT");

	if (rc != 0)
		return rc;
	gw_port = (unsigned)atoi(getenv("GW_PORT"));
	if (getenv("FRONTDOOR_SLACK") != NULL && atoi(getenv("FRONTDOOR_SLACK")) > 1)
		slack = atoi(getenv("FRONTDOOR_SLACK"));
	srand((unsigned)time(NULL) ^ (unsigned)getpid());
	snprintf(log_path, sizeof(log_path), "%s/hwgwd.log", gw_dir);
	counter = ctx_for("counter", "counter");
	auditor = ctx_for("auditor", "auditor");
	counter_key = load_key("counter", 1); /* hand_request signs with it */

	RUN(test_slow_clients_leave_room);
	RUN(test_slow_body_cut);
	RUN(test_too_large_before_the_body);
	RUN(test_content_length_twice);
	RUN(test_path_outside_the_grammar);
	RUN(test_answers_and_logs_are_utf8);
	RUN(test_untagged_refused);
	RUN(test_time_beyond_range_is_clock_skew);
	RUN(test_origin_twice);
	RUN(test_expired_request_not_started);
	RUN(test_request_status);

	hwgw_ctx_free(counter);
	hwgw_ctx_free(auditor);
	EVP_PKEY_free(counter_key);
	EVP_PKEY_free(gw_pub);
	return HWG_TEST_END();
}
