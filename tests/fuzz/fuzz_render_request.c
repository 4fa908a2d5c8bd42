/*
 * fuzz_render_request.c — libFuzzer target for the renderer's messages
 * (gateway/renderer/hwg_rd_proto.c), both ways: the render request the
 * renderer decodes (it came from the privileged process, but names,
 * addresses and 外字 came from the registry), and what the privileged
 * process decodes from a renderer that runs the layout engines and may
 * have been taken over (REPLY with the PDF, READY).  The first byte picks
 * the decoder, the rest is the body.  A request that decodes must keep
 * every limit the decoder promises and survive encoding and decoding
 * again unchanged; a REPLY or READY that decodes must encode back to the
 * same bytes (both are written in CBOR's shortest form).
 */
#include <stdlib.h>
#include <string.h>

#include "hwg_rd_proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_request(const struct hwg_rd_request *r)
{
	if (hwg_rd_kind_name(r->kind) == NULL || r->n_people < 1 ||
	    r->n_people > HWG_RD_PEOPLE_MAX || !hwg_rd_date_valid(r->date) || r->no[0] == '\0' ||
	    r->code[0] == '\0' || (r->kind == HWG_RD_INKAN && r->n_people != 1))
		abort();
	for (size_t i = 0; i < r->n_people; i++) {
		const struct hwg_rd_person *p = &r->people[i];

		if (p->value[HWG_RD_NAME] == NULL ||
		    strlen(p->value[HWG_RD_NAME]) > HWG_RD_NAME_MAX)
			abort();
		if (p->value[HWG_RD_MY_NUMBER] != NULL && !r->my_number)
			abort();
		for (int f = 0; f < HWG_RD_FIELDS; f++) {
			const char *v = p->value[f];

			if (v == NULL)
				continue;
			if (v[0] == '\0' || strlen(v) > HWG_RD_VALUE_MAX ||
			    (hwg_rd_field_is_date(f) && !hwg_rd_date_valid(v)))
				abort();
			for (const char *c = v; *c != '\0'; c++)
				if ((unsigned char)*c < 0x20 || *c == 0x7f)
					abort();
		}
	}
}

static void
same_request(const struct hwg_rd_request *a, const struct hwg_rd_request *b)
{
	if (a->kind != b->kind || strcmp(a->no, b->no) != 0 || strcmp(a->date, b->date) != 0 ||
	    strcmp(a->city, b->city) != 0 || strcmp(a->mayor, b->mayor) != 0 ||
	    strcmp(a->code, b->code) != 0 || strcmp(a->orig, b->orig) != 0 ||
	    a->household != b->household || a->my_number != b->my_number ||
	    a->n_people != b->n_people)
		abort();
	for (size_t i = 0; i < a->n_people; i++)
		for (int f = 0; f < HWG_RD_FIELDS; f++) {
			const char *x = a->people[i].value[f], *y = b->people[i].value[f];

			if ((x == NULL) != (y == NULL) || (x != NULL && strcmp(x, y) != 0))
				abort();
		}
}

static void
request(const uint8_t *body, size_t len)
{
	struct hwg_rd_request r, again;
	struct hwg_error err = {0};
	uint8_t *enc = NULL;
	size_t enc_len = 0;

	if (hwg_rd_request_decode(body, len, &r, &err) != 0) {
		if (err.code != HWG_E_BAD_ARGS && err.code != HWG_E_TOO_LARGE &&
		    err.code != HWG_E_NOMEM)
			abort();
		if (r.people != NULL || r.n_people != 0)
			abort();
		return;
	}
	check_request(&r);
	if (hwg_rd_request_encode(&r, &enc, &enc_len, &err) != 0 ||
	    hwg_rd_request_decode(enc, enc_len, &again, &err) != 0)
		abort();
	same_request(&r, &again);
	free(enc);
	hwg_rd_request_clear(&again);
	hwg_rd_request_clear(&r);
}

static void
same_bytes(const struct hwg_buf *re, const uint8_t *body, size_t len)
{
	if (hwg_buf_len(re) != len || memcmp(hwg_buf_ptr(re), body, len) != 0)
		abort();
}

static void
reply(const uint8_t *body, size_t len, struct hwg_buf *re)
{
	struct hwg_buf *in = hwg_buf_from(body, len);
	struct hwg_error err = {0};
	char msg[HWG_RD_MSG_MAX + 1];
	const uint8_t *pdf;
	unsigned pages;
	size_t n;
	int code;

	if (in == NULL || hwg_rd_reply_decode(in, &code, msg, &pdf, &n, &pages, &err) != 0) {
		hwg_buf_free(in);
		return;
	}
	if (code == 0 ? (n == 0 || n > HWG_RD_PDF_MAX || pages == 0 ||
	                 hwg_rd_reply_encode_pdf(pdf, n, pages, re) != 0)
	              : hwg_rd_reply_encode_error(code, msg, re) != 0)
		abort();
	same_bytes(re, body, len);
	hwg_buf_free(in);
}

static void
ready(const uint8_t *body, size_t len, struct hwg_buf *re)
{
	struct hwg_buf *in = hwg_buf_from(body, len);
	struct hwg_error err = {0};
	char msg[HWG_RD_MSG_MAX + 1];
	int code;

	if (in == NULL || hwg_rd_ready_decode(in, &code, msg, &err) != 0) {
		hwg_buf_free(in);
		return;
	}
	if (hwg_rd_ready_encode(code, msg, re) != 0)
		abort();
	same_bytes(re, body, len);
	hwg_buf_free(in);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hwg_buf *re;

	if (size == 0)
		return 0;
	if (data[0] % 3 == 0) {
		request(data + 1, size - 1);
		return 0;
	}
	if ((re = hwg_buf_new(size + 64)) == NULL)
		return 0;
	if (data[0] % 3 == 1)
		reply(data + 1, size - 1, re);
	else
		ready(data + 1, size - 1, re);
	hwg_buf_free(re);
	return 0;
}
