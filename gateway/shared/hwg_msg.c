/*
 * hwg_msg.c — see hwg_msg.h.  Both ends of the socketpair are ours, but
 * the net process may be compromised: everything it sends is decoded as
 * strictly as client bytes, and any deviation ends that process.
 */
#include "hwg_msg.h"

#include <cbor.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "hwg_cbor.h"
#include "hwg_secret.h"
#include "hwg_optable.h"

int
hwg_msg_send(int fd, uint8_t type, uint32_t id, const struct hwg_buf *body, struct hwg_error *err)
{
	size_t len = body != NULL ? hwg_buf_len(body) : 0, off = 0, total;
	uint8_t h[HWG_MSG_HEADER_LEN] = {
	    (uint8_t)(len >> 24), (uint8_t)(len >> 16), (uint8_t)(len >> 8), (uint8_t)len, type,
	    (uint8_t)(id >> 24),  (uint8_t)(id >> 16),  (uint8_t)(id >> 8),  (uint8_t)id};
	struct iovec iov[2];
	struct msghdr mh = {.msg_iov = iov};
	ssize_t n;

	if (len > HWG_MSG_MAX)
		return hwg_error_set(err, HWG_E_TOO_LARGE, "internal message of %zu bytes", len);
	total = sizeof(h) + len;
	while (off < total) {
		mh.msg_iovlen = 0;
		if (off < sizeof(h)) {
			iov[mh.msg_iovlen++] = (struct iovec){h + off, sizeof(h) - off};
			if (len > 0)
				iov[mh.msg_iovlen++] =
				    (struct iovec){(void *)hwg_buf_ptr(body), len};
		} else {
			iov[mh.msg_iovlen++] = (struct iovec){
			    (void *)(hwg_buf_ptr(body) + (off - sizeof(h))), total - off};
		}
		if ((n = sendmsg(fd, &mh, MSG_NOSIGNAL)) < 0) {
			if (errno == EINTR)
				continue;
			return hwg_error_set(err, HWG_E_IO, "internal link: %s", strerror(errno));
		}
		off += (size_t)n;
	}
	return 0;
}

/* 1 when the stream ended before the first byte (and eof_ok), else 0 or HWG_E_IO. */
static int
read_full(int fd, uint8_t *p, size_t len, int eof_ok, struct hwg_error *err)
{
	size_t off = 0;
	ssize_t n;

	while (off < len) {
		if ((n = read(fd, p + off, len - off)) < 0) {
			if (errno == EINTR)
				continue;
			return hwg_error_set(err, HWG_E_IO, "internal link: %s", strerror(errno));
		}
		if (n == 0) {
			if (off == 0 && eof_ok)
				return 1;
			return hwg_error_set(err, HWG_E_IO, "internal link: cut inside a message");
		}
		off += (size_t)n;
	}
	return 0;
}

int
hwg_msg_recv(int fd, unsigned expect, uint8_t *type, uint32_t *id, struct hwg_buf **body,
             struct hwg_error *err)
{
	uint8_t h[HWG_MSG_HEADER_LEN], *p;
	struct hwg_buf *hb, *b = NULL;
	uint32_t len;
	int rc;

	*body = NULL;
	if ((rc = read_full(fd, h, sizeof(h), 1, err)) != 0)
		return rc;
	if ((hb = hwg_buf_from(h, sizeof(h))) == NULL)
		return hwg_error_set(err, HWG_E_NOMEM, "out of memory");
	hwg_buf_get_u32be(hb, &len);
	hwg_buf_get_u8(hb, type);
	hwg_buf_get_u32be(hb, id);
	hwg_buf_free(hb);
	if (*type >= 32 || (expect & HWG_MSG_BIT(*type)) == 0)
		return hwg_error_set(err, HWG_E_BAD_ENCODING,
		                     "internal message of type %u unexpected", *type);
	if (len > HWG_MSG_MAX)
		return hwg_error_set(err, HWG_E_TOO_LARGE,
		                     "internal message of %u bytes over the limit of %u", len,
		                     HWG_MSG_MAX);
	if ((p = malloc(len ? len : 1)) == NULL)
		return hwg_error_set(err, HWG_E_NOMEM, "out of memory");
	if ((rc = read_full(fd, p, len, 0, err)) != 0 || (b = hwg_buf_new(len)) == NULL ||
	    hwg_buf_put(b, p, len) != 0) {
		hwg_wipe(p, len);
		free(p);
		hwg_buf_free(b);
		return rc != 0 ? rc : hwg_error_set(err, HWG_E_NOMEM, "out of memory");
	}
	/* bodies carry PINs (a request's arguments) and templates (the keyholder's) */
	hwg_wipe(p, len);
	free(p);
	*body = b;
	return 0;
}

/* ---------------------------------------------------------------- verdict */

static int
put_text(struct hwg_buf *b, const char *s)
{
	return hwg_buf_put_string(b, s, strlen(s));
}

static int
put_request(struct hwg_buf *b, const struct hwg_request *r)
{
	unsigned char *args = NULL;
	size_t cap = 0, len = 0;
	int rc;

	if (r->args != NULL && (len = cbor_serialize_alloc(r->args, &args, &cap)) == 0)
		return HWG_E_NOMEM;
	rc = hwg_buf_put_u64be(b, r->version);
	rc = rc != 0 ? rc : put_text(b, r->client_id);
	rc = rc != 0 ? rc : put_text(b, r->op);
	rc = rc != 0 ? rc : put_text(b, r->audience);
	rc = rc != 0 ? rc : hwg_buf_put_u64be(b, (uint64_t)r->time_ms);
	rc = rc != 0 ? rc : hwg_buf_put_string(b, r->nonce, r->nonce_len);
	rc = rc != 0 ? rc : hwg_buf_put_string(b, r->session, r->session_len);
	rc = rc != 0 ? rc : hwg_buf_put_string(b, args, len);
	free(args);
	return rc;
}

int
hwg_msg_verdict_encode(const struct hwg_peer *peer, const struct hwg_verdict *v, const uint8_t *msg,
                       size_t len, struct hwg_buf *b)
{
	int rc;

	rc = put_text(b, peer->transport);
	rc = rc != 0 ? rc : hwg_buf_put_u64be(b, (uint64_t)peer->uid);
	rc = rc != 0 ? rc : hwg_buf_put(b, v->req_hash, sizeof(v->req_hash));
	rc = rc != 0 ? rc : hwg_buf_put_u32be(b, (uint32_t)v->code);
	rc = rc != 0 ? rc : put_text(b, v->message);
	rc = rc != 0 ? rc : hwg_buf_put_u8(b, (uint8_t)(v->have_req != 0));
	if (rc == 0 && v->have_req)
		rc = put_request(b, &v->req);
	if (rc == 0)
		rc = hwg_buf_put_string(b, v->code == 0 ? msg : NULL, v->code == 0 ? len : 0);
	return rc;
}

/* A text of at most max bytes, no NUL, into out[max + 1]. */
static int
get_text(struct hwg_buf *b, char *out, size_t max)
{
	const uint8_t *p;
	size_t len;

	if (hwg_buf_get_string_view(b, max, &p, &len) != 0 || memchr(p, 0, len) != NULL)
		return HWG_E_BAD_ENCODING;
	memcpy(out, p, len);
	out[len] = '\0';
	return 0;
}

static int
get_bytes(struct hwg_buf *b, uint8_t *out, size_t max, size_t *len)
{
	const uint8_t *p;

	if (hwg_buf_get_string_view(b, max, &p, len) != 0)
		return HWG_E_BAD_ENCODING;
	memcpy(out, p, *len);
	return 0;
}

/*
 * The arguments through hwg_cbor_load, as the request parser reads a
 * client's: libcbor's own cbor_load allocates a container's declared
 * size up front, so a taken-over net process could ask the privileged
 * one for gigabytes in a few bytes (fuzz_verdict found it).
 */
static int
get_args(struct hwg_buf *b, cbor_item_t **args)
{
	const uint8_t *p;
	size_t len;

	if (hwg_buf_get_string_view(b, HWG_MSG_MAX, &p, &len) != 0)
		return HWG_E_BAD_ENCODING;
	if (len == 0)
		return 0;
	*args = hwg_cbor_load(p, len, NULL);
	if (*args == NULL || !cbor_isa_map(*args) || !cbor_map_is_definite(*args))
		return HWG_E_BAD_ENCODING;
	return 0;
}

static int
get_request(struct hwg_buf *b, struct hwg_request *r)
{
	uint64_t t;

	if (hwg_buf_get_u64be(b, &r->version) != 0 ||
	    get_text(b, r->client_id, sizeof(r->client_id) - 1) != 0 ||
	    get_text(b, r->op, sizeof(r->op) - 1) != 0 ||
	    get_text(b, r->audience, sizeof(r->audience) - 1) != 0 ||
	    hwg_buf_get_u64be(b, &t) != 0 ||
	    get_bytes(b, r->nonce, sizeof(r->nonce), &r->nonce_len) != 0 ||
	    get_bytes(b, r->session, sizeof(r->session), &r->session_len) != 0)
		return HWG_E_BAD_ENCODING;
	r->time_ms = (int64_t)t;
	return get_args(b, &r->args);
}

static int
get_transport(struct hwg_buf *b, struct hwg_peer *peer)
{
	char t[8];
	uint64_t uid;

	if (get_text(b, t, sizeof(t) - 1) != 0 || hwg_buf_get_u64be(b, &uid) != 0)
		return HWG_E_BAD_ENCODING;
	if (strcmp(t, "unix") == 0)
		peer->transport = "unix";
	else if (strcmp(t, "http") == 0)
		peer->transport = "http";
	else
		return HWG_E_BAD_ENCODING;
	peer->uid = (int64_t)uid;
	peer->url_op = NULL; /* checked by the net process against the signed op */
	return 0;
}

static int
verdict_decode(struct hwg_buf *b, struct hwg_peer *peer, struct hwg_verdict *v, const uint8_t **msg,
               size_t *msg_len)
{
	uint32_t code;
	uint8_t have_req;

	if (get_transport(b, peer) != 0 || hwg_buf_get(b, v->req_hash, sizeof(v->req_hash)) != 0 ||
	    hwg_buf_get_u32be(b, &code) != 0 ||
	    get_text(b, v->message, sizeof(v->message) - 1) != 0 ||
	    hwg_buf_get_u8(b, &have_req) != 0 || have_req > 1)
		return HWG_E_BAD_ENCODING;
	v->code = (int32_t)code;
	v->have_req = have_req;
	if (v->code > 0 || (v->code == 0 && !have_req) ||
	    (have_req && get_request(b, &v->req) != 0) ||
	    hwg_buf_get_string_view(b, HWG_MSG_MAX, msg, msg_len) != 0 || hwg_buf_len(b) != 0 ||
	    (v->code == 0) != (*msg_len > 0))
		return HWG_E_BAD_ENCODING;
	if (have_req)
		v->op = hwg_op_find(v->req.op);
	if (v->code == 0 && (v->op == NULL || v->req.args == NULL))
		return HWG_E_BAD_ENCODING;
	return 0;
}

int
hwg_msg_verdict_decode(struct hwg_buf *b, struct hwg_peer *peer, struct hwg_verdict *v,
                       const uint8_t **msg, size_t *msg_len, struct hwg_error *err)
{
	memset(v, 0, sizeof(*v));
	v->tries_left = -1;
	*msg = NULL;
	*msg_len = 0;
	if (verdict_decode(b, peer, v, msg, msg_len) != 0)
		return hwg_error_set(err, HWG_E_BAD_ENCODING,
		                     "malformed verdict from the net process");
	return 0;
}

/* ---------------------------------------------------------------- reply */

int
hwg_msg_reply_encode(int rc, const struct hwg_reply *r, struct hwg_buf *b)
{
	int e = hwg_buf_put_u32be(b, (uint32_t)rc);

	e = e != 0 ? e : hwg_buf_put_u32be(b, (uint32_t)r->code);
	e = e != 0 ? e : hwg_buf_put_u32be(b, r->stages.reverify_us);
	e = e != 0 ? e : hwg_buf_put_u32be(b, r->stages.execute_us);
	e = e != 0 ? e : hwg_buf_put_u32be(b, r->stages.commit_us);
	e = e != 0 ? e : hwg_buf_put_u32be(b, r->stages.sign_us);
	return e != 0 ? e : hwg_buf_put_string(b, r->body, r->body != NULL ? r->len : 0);
}

int
hwg_msg_reply_decode(struct hwg_buf *b, int *rc, struct hwg_reply *r, struct hwg_error *err)
{
	const uint8_t *p;
	uint32_t v, code;
	size_t len;

	memset(r, 0, sizeof(*r));
	if (hwg_buf_get_u32be(b, &v) != 0 || hwg_buf_get_u32be(b, &code) != 0 ||
	    hwg_buf_get_u32be(b, &r->stages.reverify_us) != 0 ||
	    hwg_buf_get_u32be(b, &r->stages.execute_us) != 0 ||
	    hwg_buf_get_u32be(b, &r->stages.commit_us) != 0 ||
	    hwg_buf_get_u32be(b, &r->stages.sign_us) != 0 ||
	    hwg_buf_get_string_view(b, HWG_MSG_MAX, &p, &len) != 0 || hwg_buf_len(b) != 0 ||
	    (int32_t)v > 0 || (int32_t)code > 0)
		return hwg_error_set(err, HWG_E_BAD_ENCODING, "malformed reply from the gateway");
	*rc = (int32_t)v;
	r->code = (int32_t)code;
	if (len > 0) {
		if ((r->body = malloc(len)) == NULL)
			return hwg_error_set(err, HWG_E_NOMEM, "out of memory");
		memcpy(r->body, p, len);
		r->len = len;
	}
	return 0;
}
