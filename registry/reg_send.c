/*
 * reg_send.c — the outbox sender (see reg_send.h).  Exactly once, in
 * order: a notice is marked delivered only after the CS answered 200
 * with "ack SEQ" for its own number, and the next is not sent before
 * that.  A sender killed between the CS's acknowledgement and the mark
 * sends the same notice again when it starts: the CS recognises it by its
 * sequence number (hw-sim/sim_cs.c does), so it is recorded once.
 * Nothing is logged; a notice's My Number travels only in the request
 * body, as the CS needs it.
 */
#include "reg_send.h"

#include <curl/curl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "hwg_backoff.h"
#include "hwg_secret.h"
#include "reg_cbor.h"

#define BATCH 64
#define ANSWER_MAX 128

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
sleep_ms(int64_t ms)
{
	struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000};

	while (nanosleep(&ts, &ts) != 0)
		;
}

/* The notice as a deterministic CBOR map (keys by length, then bytewise). */
static int
encode(const struct reg_notice *n, struct hwg_buf *b)
{
	struct reg_cbor w = {b, 0};

	reg_cbor_map(&w, 11);
	reg_cbor_text(&w, "seq");
	reg_cbor_uint(&w, (uint64_t)n->seq);
	reg_cbor_text(&w, "sex");
	reg_cbor_text(&w, n->sex);
	reg_cbor_text(&w, "kana");
	reg_cbor_text(&w, n->kana);
	reg_cbor_text(&w, "name");
	reg_cbor_text(&w, n->name);
	reg_cbor_text(&w, "birth");
	reg_cbor_text(&w, n->birth);
	reg_cbor_text(&w, "reason");
	reg_cbor_text(&w, n->reason);
	reg_cbor_text(&w, "address");
	reg_cbor_text(&w, n->address);
	reg_cbor_text(&w, "version");
	reg_cbor_uint(&w, (uint64_t)n->version);
	reg_cbor_text(&w, "my_number");
	reg_cbor_text(&w, n->my_number);
	reg_cbor_text(&w, "change_date");
	reg_cbor_text(&w, n->change_date);
	reg_cbor_text(&w, "resident_code");
	reg_cbor_text(&w, n->resident_code);
	return w.rc;
}

struct answer {
	char text[ANSWER_MAX];
	size_t len;
};

static size_t
on_body(char *p, size_t size, size_t n, void *arg)
{
	struct answer *a = arg;
	size_t k = size * n;

	if (a->len + k >= sizeof(a->text))
		return 0; /* longer than any acknowledgement: refused */
	memcpy(a->text + a->len, p, k);
	a->len += k;
	a->text[a->len] = '\0';
	return k;
}

/* One delivery: 0 when the CS acknowledged exactly this notice. */
static int
post(CURL *c, const struct reg_send_opts *o, const struct reg_notice *n, struct hwg_buf *b)
{
	struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/cbor");
	struct answer a = {"", 0};
	char want[40];
	long status = 0;
	CURLcode rc;

	hwg_buf_reset(b);
	if (h == NULL || encode(n, b) != 0) {
		curl_slist_free_all(h);
		return -1;
	}
	curl_easy_reset(c);
	curl_easy_setopt(c, CURLOPT_URL, o->url);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, (const char *)hwg_buf_ptr(b));
	curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)hwg_buf_len(b));
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &a);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)o->timeout_ms);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	rc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	curl_slist_free_all(h);
	hwg_buf_reset(b); /* wiped: the body holds a My Number */
	snprintf(want, sizeof(want), "ack %lld", (long long)n->seq);
	return rc == CURLE_OK && status == 200 && strcmp(a.text, want) == 0 ? 0 : -1;
}

/* Deliver n, retrying with back-off until the CS acknowledges it. */
static void
deliver(CURL *c, const struct reg_send_opts *o, const struct reg_notice *n, struct hwg_buf *b,
        struct reg_send_stats *st)
{
	struct hwg_backoff bo = {0, 0};

	for (;;) {
		hwg_backoff_started(&bo, now_ms());
		if (post(c, o, n, b) == 0)
			return;
		st->failed_attempts++;
		sleep_ms(hwg_backoff_ended(&bo, now_ms()));
	}
}

static int
send_batch(struct hwgw_registry *r, CURL *c, const struct reg_send_opts *o, struct reg_notice *ns,
           size_t n, struct hwg_buf *b, struct reg_send_stats *st, struct hwg_error *err)
{
	int rc = 0;

	for (size_t i = 0; i < n && rc == 0; i++) {
		deliver(c, o, &ns[i], b, st);
		if ((rc = hwgw_registry_outbox_done(r, ns[i].seq, err)) == 0)
			st->delivered++;
	}
	return rc;
}

int
reg_send_run(struct hwgw_registry *r, const struct reg_send_opts *o, struct reg_send_stats *st,
             struct hwg_error *err)
{
	static struct reg_notice ns[BATCH];
	struct hwg_buf *b = hwg_buf_new(64 * 1024);
	CURL *c = curl_easy_init();
	size_t n = 0;
	int rc = 0;

	memset(st, 0, sizeof(*st));
	if (b == NULL || c == NULL)
		rc = hwg_error_set(err, HWG_E_NOMEM, "sender: out of memory");
	while (rc == 0) {
		if ((rc = hwgw_registry_outbox(r, ns, BATCH, &n, err)) != 0)
			break;
		if (n == 0 && o->until_empty)
			break;
		if (n == 0)
			sleep_ms(o->poll_ms);
		rc = send_batch(r, c, o, ns, n, b, st, err);
		hwg_wipe(ns, sizeof(ns));
	}
	curl_easy_cleanup(c);
	hwg_buf_free(b);
	return rc;
}
