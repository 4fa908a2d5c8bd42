/*
 * fuzz_verdict.c — libFuzzer target for what the privileged process reads
 * from the net process (gateway/shared/hwg_msg.c): a VERDICT body, and a REPLY
 * body (the other direction, read by the net process).  Privilege
 * separation treats the net process as taken over: nothing it sends may
 * crash, leak or read out of bounds here.  A verdict the decoder accepts
 * must keep its promises (a pass names a known operation, has arguments
 * that are one definite map and carries the client's bytes; a refusal
 * carries none) and survive re-encoding: encode(decode(x)) decodes to
 * the same verdict and bytes.
 */
#include <stdlib.h>
#include <string.h>

#include "hwg_msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
same(const struct hwg_peer *pa, const struct hwg_verdict *a, const uint8_t *ma, size_t la,
     const struct hwg_peer *pb, const struct hwg_verdict *b, const uint8_t *mb, size_t lb)
{
	return strcmp(pa->transport, pb->transport) == 0 && pa->uid == pb->uid &&
	       memcmp(a->req_hash, b->req_hash, sizeof(a->req_hash)) == 0 && a->code == b->code &&
	       strcmp(a->message, b->message) == 0 && a->have_req == b->have_req &&
	       a->op == b->op && strcmp(a->req.client_id, b->req.client_id) == 0 &&
	       strcmp(a->req.op, b->req.op) == 0 && a->req.time_ms == b->req.time_ms &&
	       a->req.nonce_len == b->req.nonce_len && a->req.session_len == b->req.session_len &&
	       memcmp(a->req.nonce, b->req.nonce, a->req.nonce_len) == 0 &&
	       (a->req.args == NULL) == (b->req.args == NULL) && la == lb &&
	       (la == 0 || memcmp(ma, mb, la) == 0);
}

static void
verdict(const uint8_t *data, size_t size)
{
	struct hwg_buf *in = hwg_buf_from(data, size), *out = hwg_buf_new(HWG_MSG_MAX);
	struct hwg_error err = {0};
	struct hwg_peer p1, p2;
	struct hwg_verdict v1, v2;
	const uint8_t *m1, *m2;
	size_t l1, l2;

	if (in == NULL || out == NULL) {
		hwg_buf_free(in);
		hwg_buf_free(out);
		return;
	}
	if (hwg_msg_verdict_decode(in, &p1, &v1, &m1, &l1, &err) == 0) {
		if ((v1.code == 0) != (l1 > 0) ||
		    (v1.code == 0 && (v1.op == NULL || v1.req.args == NULL ||
		                      !cbor_isa_map(v1.req.args))))
			abort();
		if (hwg_msg_verdict_encode(&p1, &v1, m1, l1, out) != 0 ||
		    hwg_msg_verdict_decode(out, &p2, &v2, &m2, &l2, &err) != 0 ||
		    !same(&p1, &v1, m1, l1, &p2, &v2, m2, l2))
			abort();
		hwg_verdict_clear(&v2);
	} else if (err.code != HWG_E_BAD_ENCODING) {
		abort();
	}
	hwg_verdict_clear(&v1);
	hwg_buf_free(in);
	hwg_buf_free(out);
}

static void
reply(const uint8_t *data, size_t size)
{
	struct hwg_buf *in = hwg_buf_from(data, size);
	struct hwg_error err = {0};
	struct hwg_reply r;
	int rc;

	if (in == NULL)
		return;
	if (hwg_msg_reply_decode(in, &rc, &r, &err) == 0 &&
	    (rc > 0 || r.code > 0 || (r.len > 0) != (r.body != NULL)))
		abort();
	hwg_reply_clear(&r);
	hwg_buf_free(in);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* the first byte picks the message: even a verdict, odd a reply */
	if (size == 0)
		return 0;
	if (data[0] % 2 == 0)
		verdict(data + 1, size - 1);
	else
		reply(data + 1, size - 1);
	return 0;
}
