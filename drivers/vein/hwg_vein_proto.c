/*
 * hwg_vein_proto.c — see hwg_vein_proto.h and firmware-notes/vein-terminal.md.
 */
#include "hwg_vein_proto.h"

#include <openssl/evp.h>
#include <openssl/sha.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <zlib.h>

#include "hwg_buf.h"
#include "hwg_secret.h"

#define MAGIC0 'P'
#define MAGIC1 'V'

#define CAPTURE_REQ_LEN (HWG_VEIN_NONCE_LEN + 2)
#define STATUS_OK_LEN 3

static const char *const status_names[] = {
    [HWG_VEIN_ST_OK] = "ok",
    [HWG_VEIN_ST_TIMEOUT] = "timeout",
    [HWG_VEIN_ST_CANCELLED] = "cancelled",
    [HWG_VEIN_ST_BUSY] = "busy",
    [HWG_VEIN_ST_BAD_REQUEST] = "bad request",
    [HWG_VEIN_ST_UNKNOWN_TYPE] = "unknown type",
    [HWG_VEIN_ST_BAD_CRC] = "bad CRC",
    [HWG_VEIN_ST_VERSION] = "unsupported version",
    [HWG_VEIN_ST_HW_FAULT] = "hardware fault",
    [HWG_VEIN_ST_NOT_CAPTURING] = "not capturing",
};

/* ---------------------------------------------------------------- frames */

uint32_t
hwg_vein_crc(const uint8_t *p, size_t len)
{
	uLong c = crc32(0L, Z_NULL, 0);

	/* zlib takes uInt lengths; frames are far smaller, but stay exact */
	while (len > 0) {
		uInt n = len > 0x40000000u ? 0x40000000u : (uInt)len;

		c = crc32(c, p, n);
		p += n;
		len -= n;
	}
	return (uint32_t)c;
}

static void
put_u16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void
put_u32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

int
hwg_vein_frame_encode(uint8_t type, uint16_t seq, const uint8_t *payload, size_t payload_len,
                      uint8_t *out, size_t cap, size_t *len, struct hwg_error *err)
{
	size_t total = HWG_VEIN_FRAME_MIN + payload_len;

	if (payload_len > HWG_VEIN_PAYLOAD_MAX)
		return hwg_error_set(err, HWG_E_INVALID, "vein frame payload of %zu bytes (max %d)",
		                     payload_len, HWG_VEIN_PAYLOAD_MAX);
	if (cap < total)
		return hwg_error_set(err, HWG_E_TOO_LARGE,
		                     "vein frame of %zu bytes in a %zu-byte buffer", total, cap);
	out[0] = MAGIC0;
	out[1] = MAGIC1;
	out[2] = HWG_VEIN_VERSION;
	out[3] = type;
	put_u16(out + 4, seq);
	put_u16(out + 6, (uint16_t)payload_len);
	if (payload_len > 0)
		memcpy(out + HWG_VEIN_HEADER_LEN, payload, payload_len);
	put_u32(out + HWG_VEIN_HEADER_LEN + payload_len,
	        hwg_vein_crc(out, HWG_VEIN_HEADER_LEN + payload_len));
	*len = total;
	return 0;
}

static int refuse(struct hwg_vein_frame *f, uint8_t refusal, struct hwg_error *err, const char *fmt,
                  ...) __attribute__((format(printf, 4, 5)));

static int
refuse(struct hwg_vein_frame *f, uint8_t refusal, struct hwg_error *err, const char *fmt, ...)
{
	va_list ap;
	int rc;

	f->refusal = refusal;
	va_start(ap, fmt);
	rc = hwg_error_vprefixed(err, HWG_E_TERMINAL_ERROR, "vein frame", fmt, ap);
	va_end(ap);
	return rc;
}

static int
type_known(uint8_t type, enum hwg_vein_dir dir)
{
	if (dir == HWG_VEIN_TO_TERMINAL)
		return type >= HWG_VEIN_GET_INFO && type <= HWG_VEIN_PAIR;
	return type == HWG_VEIN_ERROR || (type >= (HWG_VEIN_RESPONSE | HWG_VEIN_GET_INFO) &&
	                                  type <= (HWG_VEIN_RESPONSE | HWG_VEIN_PAIR));
}

/* Magic and header: the parts read before anything can be trusted. */
static int
decode_header(struct hwg_buf *b, struct hwg_vein_frame *f, uint16_t *plen, struct hwg_error *err)
{
	const uint8_t *magic;
	size_t got = hwg_buf_len(b);

	if (got < HWG_VEIN_FRAME_MIN)
		return refuse(f, HWG_VEIN_ST_BAD_REQUEST, err,
		              "%zu bytes, shorter than a frame's %d", got, HWG_VEIN_FRAME_MIN);
	hwg_buf_get_view(b, 2, &magic);
	if (magic[0] != MAGIC0 || magic[1] != MAGIC1)
		return refuse(f, HWG_VEIN_ST_BAD_REQUEST, err, "bad magic %02X %02X", magic[0],
		              magic[1]);
	hwg_buf_get_u8(b, &f->version);
	hwg_buf_get_u8(b, &f->type);
	hwg_buf_get_u16be(b, &f->seq);
	hwg_buf_get_u16be(b, plen);
	f->seq_known = 1;
	if (*plen > HWG_VEIN_PAYLOAD_MAX)
		return refuse(f, HWG_VEIN_ST_BAD_REQUEST, err,
		              "length field %u over the maximum %d", *plen, HWG_VEIN_PAYLOAD_MAX);
	if (hwg_buf_len(b) < (size_t)*plen + HWG_VEIN_CRC_LEN)
		return refuse(f, HWG_VEIN_ST_BAD_REQUEST, err,
		              "length field %u but only %zu bytes arrived", *plen,
		              hwg_buf_len(b) - HWG_VEIN_CRC_LEN);
	if (hwg_buf_len(b) > (size_t)*plen + HWG_VEIN_CRC_LEN)
		return refuse(f, HWG_VEIN_ST_BAD_REQUEST, err,
		              "%zu bytes after the frame of length %u",
		              hwg_buf_len(b) - *plen - HWG_VEIN_CRC_LEN, *plen);
	return 0;
}

int
hwg_vein_frame_decode(const uint8_t *data, size_t len, enum hwg_vein_dir dir,
                      struct hwg_vein_frame *f, struct hwg_error *err)
{
	struct hwg_buf *b;
	uint16_t plen = 0;
	uint32_t crc = 0, want;
	int rc;

	memset(f, 0, sizeof(*f));
	if ((b = hwg_buf_from(data, len)) == NULL)
		return hwg_error_set(err, HWG_E_NOMEM, "vein frame: out of memory");
	if ((rc = decode_header(b, f, &plen, err)) != 0)
		goto out;
	hwg_buf_get_view(b, plen, &f->payload);
	f->payload_len = plen;
	hwg_buf_get_u32be(b, &crc);
	want = hwg_vein_crc(data, HWG_VEIN_HEADER_LEN + plen);
	if (crc != want) {
		rc = refuse(f, HWG_VEIN_ST_BAD_CRC, err, "CRC %08X, computed %08X", crc, want);
		goto out;
	}
	if (f->version != HWG_VEIN_VERSION &&
	    !(dir == HWG_VEIN_TO_HOST && f->type == HWG_VEIN_ERROR)) {
		rc = refuse(f, HWG_VEIN_ST_VERSION, err, "version %u, this end speaks %d",
		            f->version, HWG_VEIN_VERSION);
		goto out;
	}
	if (!type_known(f->type, dir))
		rc = refuse(f, HWG_VEIN_ST_UNKNOWN_TYPE, err, "type %02X unknown %s", f->type,
		            dir == HWG_VEIN_TO_TERMINAL ? "to a terminal" : "to a host");
out:
	hwg_buf_free(b);
	return rc;
}

int
hwg_vein_frame_expect(const struct hwg_vein_frame *f, uint8_t type, uint16_t seq,
                      struct hwg_error *err)
{
	uint8_t st;
	int rc;

	if (f->type == HWG_VEIN_ERROR) {
		if ((rc = hwg_vein_parse_error(f->payload, f->payload_len, &st, err)) != 0)
			return rc;
		if (st == HWG_VEIN_ST_VERSION)
			return hwg_error_set(err, HWG_E_TERMINAL_ERROR,
			                     "terminal refused protocol version %d: it speaks "
			                     "version %u",
			                     HWG_VEIN_VERSION, f->version);
		if (f->seq != seq && f->seq != 0)
			return hwg_error_set(err, HWG_E_TERMINAL_ERROR,
			                     "vein ERROR frame: seq %u answers command seq %u",
			                     f->seq, seq);
		return hwg_vein_status_error(st, "terminal refused the frame", err);
	}
	if (f->type != (type | HWG_VEIN_RESPONSE))
		return hwg_error_set(err, HWG_E_TERMINAL_ERROR,
		                     "vein frame: type %02X answers command %02X", f->type, type);
	if (f->seq != seq)
		return hwg_error_set(err, HWG_E_TERMINAL_ERROR,
		                     "vein frame: seq %u answers command seq %u", f->seq, seq);
	return 0;
}

/* ---------------------------------------------------------------- statuses */

const char *
hwg_vein_status_text(uint8_t status)
{
	return status <= HWG_VEIN_ST_MAX_ ? status_names[status] : "unknown status";
}

int
hwg_vein_status_error(uint8_t status, const char *what, struct hwg_error *err)
{
	int code;

	switch (status) {
	case HWG_VEIN_ST_OK:
		return 0;
	case HWG_VEIN_ST_TIMEOUT:
		code = HWG_E_CAPTURE_TIMEOUT;
		break;
	case HWG_VEIN_ST_CANCELLED:
		code = HWG_E_CAPTURE_CANCELLED;
		break;
	case HWG_VEIN_ST_BUSY:
		code = HWG_E_TERMINAL_BUSY;
		break;
	default:
		code = HWG_E_TERMINAL_ERROR;
		break;
	}
	if (status > HWG_VEIN_ST_MAX_)
		return hwg_error_set(err, code, "%s: terminal answered unknown status %u", what,
		                     status);
	return hwg_error_set(err, code, "%s: terminal answered %s", what,
	                     hwg_vein_status_text(status));
}

/* ---------------------------------------------------------------- payload helpers */

/* A hwg_buf to build one payload in; copied out by enc_finish. */
static int
enc_start(struct hwg_buf **b, struct hwg_error *err)
{
	if ((*b = hwg_buf_new(HWG_VEIN_PAYLOAD_MAX)) == NULL)
		return hwg_error_set(err, HWG_E_NOMEM, "vein payload: out of memory");
	return 0;
}

static int
enc_finish(struct hwg_buf *b, int rc, const char *what, uint8_t *out, size_t cap, size_t *len,
           struct hwg_error *err)
{
	size_t n = hwg_buf_len(b);

	/* field checks (HWG_E_INVALID) have set their message already */
	if (rc == 0 && n > cap)
		rc = hwg_error_set(err, HWG_E_TOO_LARGE, "%s payload of %zu bytes in %zu", what, n,
		                   cap);
	else if (rc != 0 && rc != HWG_E_INVALID)
		rc = hwg_error_set(err, rc, "%s payload could not be built", what);
	if (rc == 0) {
		memcpy(out, hwg_buf_ptr(b), n);
		*len = n;
	}
	hwg_buf_free(b);
	return rc;
}

static int
bad(struct hwg_error *err, const char *what, const char *why)
{
	return hwg_error_set(err, HWG_E_TERMINAL_ERROR, "vein %s: %s", what, why);
}

/* The status byte every response opens with, one of the known codes. */
static int
get_status(struct hwg_buf *b, const char *what, uint8_t *status, struct hwg_error *err)
{
	if (hwg_buf_get_u8(b, status) != 0)
		return bad(err, what, "empty payload, no status");
	if (*status > HWG_VEIN_ST_MAX_)
		return hwg_error_set(err, HWG_E_TERMINAL_ERROR, "vein %s: unknown status %u", what,
		                     *status);
	return 0;
}

static int
parse_end(struct hwg_buf *b, const char *what, int rc, struct hwg_error *err)
{
	if (rc == 0 && hwg_buf_len(b) != 0)
		rc = hwg_error_set(err, HWG_E_TERMINAL_ERROR, "vein %s: %zu trailing bytes", what,
		                   hwg_buf_len(b));
	hwg_buf_free(b);
	return rc;
}

static int
parse_start(const uint8_t *p, size_t len, struct hwg_buf **b, struct hwg_error *err)
{
	if ((*b = hwg_buf_from(p, len)) == NULL)
		return hwg_error_set(err, HWG_E_NOMEM, "vein payload: out of memory");
	return 0;
}

/* ---------------------------------------------------------------- empty and status-only */

int
hwg_vein_parse_empty(const uint8_t *p, size_t len, struct hwg_error *err)
{
	(void)p;
	if (len != 0)
		return hwg_error_set(err, HWG_E_TERMINAL_ERROR,
		                     "vein command: %zu bytes where none belong", len);
	return 0;
}

int
hwg_vein_enc_status_only(uint8_t status, uint8_t *out, size_t cap, size_t *len,
                         struct hwg_error *err)
{
	if (status > HWG_VEIN_ST_MAX_)
		return hwg_error_set(err, HWG_E_INVALID, "vein status %u unknown", status);
	if (cap < 1)
		return hwg_error_set(err, HWG_E_TOO_LARGE, "vein status in a 0-byte buffer");
	out[0] = status;
	*len = 1;
	return 0;
}

static int
parse_status_only(const uint8_t *p, size_t len, const char *what, uint8_t *status,
                  struct hwg_error *err)
{
	struct hwg_buf *b;
	uint8_t st = 0;
	int rc;

	if ((rc = parse_start(p, len, &b, err)) != 0)
		return rc;
	rc = get_status(b, what, &st, err);
	if ((rc = parse_end(b, what, rc, err)) == 0)
		*status = st;
	return rc;
}

int
hwg_vein_parse_cancel_resp(const uint8_t *p, size_t len, uint8_t *status, struct hwg_error *err)
{
	return parse_status_only(p, len, "CANCEL response", status, err);
}

int
hwg_vein_parse_error(const uint8_t *p, size_t len, uint8_t *status, struct hwg_error *err)
{
	uint8_t st;
	int rc;

	if ((rc = parse_status_only(p, len, "ERROR frame", &st, err)) != 0)
		return rc;
	if (st != HWG_VEIN_ST_BAD_REQUEST && st != HWG_VEIN_ST_UNKNOWN_TYPE &&
	    st != HWG_VEIN_ST_BAD_CRC && st != HWG_VEIN_ST_VERSION)
		return hwg_error_set(err, HWG_E_TERMINAL_ERROR,
		                     "vein ERROR frame: status %s is not a frame refusal",
		                     hwg_vein_status_text(st));
	*status = st;
	return 0;
}

/* A not-OK response: the status byte and nothing after it. */
static int
not_ok_only(struct hwg_buf *b, const char *what, struct hwg_error *err)
{
	if (hwg_buf_len(b) != 0)
		return hwg_error_set(err, HWG_E_TERMINAL_ERROR,
		                     "vein %s: %zu bytes after a not-OK status", what,
		                     hwg_buf_len(b));
	return 0;
}

/* ---------------------------------------------------------------- GET_INFO */

static int
str_ok(const char *s, size_t *n)
{
	size_t i;

	*n = strnlen(s, HWG_VEIN_STR_MAX + 1);
	if (*n == 0 || *n > HWG_VEIN_STR_MAX)
		return 0;
	for (i = 0; i < *n; i++)
		if (s[i] < 0x20 || s[i] > 0x7E)
			return 0;
	return 1;
}

static int
put_str(struct hwg_buf *b, const char *s, const char *name, struct hwg_error *err)
{
	size_t n;
	int rc;

	if (!str_ok(s, &n))
		return hwg_error_set(err, HWG_E_INVALID,
		                     "vein GET_INFO %s: not 1..%d printable ASCII bytes", name,
		                     HWG_VEIN_STR_MAX);
	if ((rc = hwg_buf_put_u8(b, (uint8_t)n)) != 0)
		return rc;
	return hwg_buf_put(b, s, n);
}

int
hwg_vein_enc_info(const struct hwg_vein_msg_info *m, uint8_t *out, size_t cap, size_t *len,
                  struct hwg_error *err)
{
	struct hwg_buf *b;
	int rc;

	if (m->status != HWG_VEIN_ST_OK)
		return hwg_vein_enc_status_only(m->status, out, cap, len, err);
	if ((rc = enc_start(&b, err)) != 0)
		return rc;
	if ((rc = hwg_buf_put_u8(b, m->status)) == 0 &&
	    (rc = put_str(b, m->model, "model", err)) == 0 &&
	    (rc = put_str(b, m->serial, "serial", err)) == 0 &&
	    (rc = put_str(b, m->firmware, "firmware", err)) == 0)
		rc = put_str(b, m->template_format, "template_format", err);
	return enc_finish(b, rc, "GET_INFO", out, cap, len, err);
}

static int
get_str(struct hwg_buf *b, char out[HWG_VEIN_STR_MAX + 1], const char *name, struct hwg_error *err)
{
	const uint8_t *s;
	uint8_t n;

	if (hwg_buf_get_u8(b, &n) != 0)
		return hwg_error_set(err, HWG_E_TERMINAL_ERROR,
		                     "vein GET_INFO response: %s missing", name);
	if (n == 0 || n > HWG_VEIN_STR_MAX)
		return hwg_error_set(err, HWG_E_TERMINAL_ERROR,
		                     "vein GET_INFO response: %s of %u bytes (1..%d)", name, n,
		                     HWG_VEIN_STR_MAX);
	if (hwg_buf_get_view(b, n, &s) != 0)
		return hwg_error_set(err, HWG_E_TERMINAL_ERROR,
		                     "vein GET_INFO response: %s cut short", name);
	for (size_t i = 0; i < n; i++)
		if (s[i] < 0x20 || s[i] > 0x7E)
			return hwg_error_set(err, HWG_E_TERMINAL_ERROR,
			                     "vein GET_INFO response: %s has byte %02X at %zu",
			                     name, s[i], i);
	memcpy(out, s, n);
	out[n] = '\0';
	return 0;
}

int
hwg_vein_parse_info(const uint8_t *p, size_t len, struct hwg_vein_msg_info *m,
                    struct hwg_error *err)
{
	static const char what[] = "GET_INFO response";
	struct hwg_vein_msg_info t;
	struct hwg_buf *b;
	int rc;

	memset(&t, 0, sizeof(t));
	if ((rc = parse_start(p, len, &b, err)) != 0)
		return rc;
	if ((rc = get_status(b, what, &t.status, err)) == 0) {
		if (t.status != HWG_VEIN_ST_OK)
			rc = not_ok_only(b, what, err);
		else if ((rc = get_str(b, t.model, "model", err)) == 0 &&
		         (rc = get_str(b, t.serial, "serial", err)) == 0 &&
		         (rc = get_str(b, t.firmware, "firmware", err)) == 0)
			rc = get_str(b, t.template_format, "template_format", err);
	}
	if ((rc = parse_end(b, what, rc, err)) == 0)
		*m = t;
	return rc;
}

/* ---------------------------------------------------------------- CAPTURE */

static int
timeout_ok(uint16_t ms)
{
	return ms >= HWG_VEIN_TIMEOUT_MIN && ms <= HWG_VEIN_TIMEOUT_MAX;
}

int
hwg_vein_enc_capture_req(const struct hwg_vein_msg_capture_req *m, uint8_t *out, size_t cap,
                         size_t *len, struct hwg_error *err)
{
	if (!timeout_ok(m->timeout_ms))
		return hwg_error_set(err, HWG_E_INVALID,
		                     "vein CAPTURE timeout %u ms outside %d..%d", m->timeout_ms,
		                     HWG_VEIN_TIMEOUT_MIN, HWG_VEIN_TIMEOUT_MAX);
	if (cap < CAPTURE_REQ_LEN)
		return hwg_error_set(err, HWG_E_TOO_LARGE, "vein CAPTURE payload in %zu bytes",
		                     cap);
	memcpy(out, m->nonce, HWG_VEIN_NONCE_LEN);
	put_u16(out + HWG_VEIN_NONCE_LEN, m->timeout_ms);
	*len = CAPTURE_REQ_LEN;
	return 0;
}

int
hwg_vein_parse_capture_req(const uint8_t *p, size_t len, struct hwg_vein_msg_capture_req *m,
                           struct hwg_error *err)
{
	static const char what[] = "CAPTURE command";
	struct hwg_vein_msg_capture_req t;
	struct hwg_buf *b;
	int rc;

	if ((rc = parse_start(p, len, &b, err)) != 0)
		return rc;
	if (hwg_buf_get(b, t.nonce, sizeof(t.nonce)) != 0 ||
	    hwg_buf_get_u16be(b, &t.timeout_ms) != 0)
		rc = bad(err, what, "cut short");
	else if (!timeout_ok(t.timeout_ms))
		rc = hwg_error_set(err, HWG_E_TERMINAL_ERROR,
		                   "vein CAPTURE command: timeout %u ms outside %d..%d",
		                   t.timeout_ms, HWG_VEIN_TIMEOUT_MIN, HWG_VEIN_TIMEOUT_MAX);
	if ((rc = parse_end(b, what, rc, err)) == 0)
		*m = t;
	return rc;
}

int
hwg_vein_enc_capture(const struct hwg_vein_msg_capture *m, uint8_t *out, size_t cap, size_t *len,
                     struct hwg_error *err)
{
	struct hwg_buf *b;
	int rc;

	if (m->status != HWG_VEIN_ST_OK)
		return hwg_vein_enc_status_only(m->status, out, cap, len, err);
	if (m->quality > 100 || m->liveness > 100)
		return hwg_error_set(err, HWG_E_INVALID,
		                     "vein CAPTURE quality %u or liveness %u over 100", m->quality,
		                     m->liveness);
	if ((rc = enc_start(&b, err)) != 0)
		return rc;
	if ((rc = hwg_buf_put_u8(b, m->status)) == 0 && (rc = hwg_buf_put_u8(b, m->quality)) == 0 &&
	    (rc = hwg_buf_put_u8(b, m->liveness)) == 0 &&
	    (rc = hwg_buf_put_u16be(b, HWG_VEIN_TEMPLATE_LEN)) == 0 &&
	    (rc = hwg_buf_put(b, m->tmpl, HWG_VEIN_TEMPLATE_LEN)) == 0 &&
	    (rc = hwg_buf_put_u8(b, m->sig_alg)) == 0)
		rc = hwg_buf_put(b, m->sig, HWG_VEIN_SIG_LEN);
	return enc_finish(b, rc, "CAPTURE", out, cap, len, err);
}

static int
parse_capture_ok(struct hwg_buf *b, struct hwg_vein_msg_capture *t, struct hwg_error *err)
{
	static const char what[] = "CAPTURE response";
	uint16_t tlen;

	if (hwg_buf_get_u8(b, &t->quality) != 0 || hwg_buf_get_u8(b, &t->liveness) != 0 ||
	    hwg_buf_get_u16be(b, &tlen) != 0)
		return bad(err, what, "cut short before the template");
	if (t->quality > 100 || t->liveness > 100)
		return hwg_error_set(err, HWG_E_TERMINAL_ERROR,
		                     "vein CAPTURE response: quality %u or liveness %u over 100",
		                     t->quality, t->liveness);
	if (tlen != HWG_VEIN_TEMPLATE_LEN)
		return hwg_error_set(err, HWG_E_TERMINAL_ERROR,
		                     "vein CAPTURE response: template of %u bytes, not %d", tlen,
		                     HWG_VEIN_TEMPLATE_LEN);
	if (hwg_buf_get(b, t->tmpl, HWG_VEIN_TEMPLATE_LEN) != 0 ||
	    hwg_buf_get_u8(b, &t->sig_alg) != 0 || hwg_buf_get(b, t->sig, HWG_VEIN_SIG_LEN) != 0)
		return bad(err, what, "cut short after the template");
	if (t->sig_alg != HWG_VEIN_ALG_ED25519)
		return hwg_error_set(err, HWG_E_TERMINAL_ERROR,
		                     "vein CAPTURE response: signature algorithm %u unknown",
		                     t->sig_alg);
	return 0;
}

int
hwg_vein_parse_capture(const uint8_t *p, size_t len, struct hwg_vein_msg_capture *m,
                       struct hwg_error *err)
{
	static const char what[] = "CAPTURE response";
	struct hwg_vein_msg_capture t;
	struct hwg_buf *b;
	int rc;

	memset(&t, 0, sizeof(t));
	if ((rc = parse_start(p, len, &b, err)) != 0)
		return rc;
	if ((rc = get_status(b, what, &t.status, err)) == 0)
		rc = t.status == HWG_VEIN_ST_OK ? parse_capture_ok(b, &t, err)
		                                : not_ok_only(b, what, err);
	if ((rc = parse_end(b, what, rc, err)) == 0)
		*m = t;
	hwg_wipe(&t, sizeof(t));
	return rc;
}

/* ---------------------------------------------------------------- STATUS */

int
hwg_vein_enc_status(const struct hwg_vein_msg_status *m, uint8_t *out, size_t cap, size_t *len,
                    struct hwg_error *err)
{
	if (m->status != HWG_VEIN_ST_OK)
		return hwg_vein_enc_status_only(m->status, out, cap, len, err);
	if (m->state > HWG_VEIN_STATE_FAULT || m->palm_present > 1)
		return hwg_error_set(err, HWG_E_INVALID, "vein STATUS state %u or palm %u invalid",
		                     m->state, m->palm_present);
	if (cap < STATUS_OK_LEN)
		return hwg_error_set(err, HWG_E_TOO_LARGE, "vein STATUS payload in %zu bytes", cap);
	out[0] = m->status;
	out[1] = m->state;
	out[2] = m->palm_present;
	*len = STATUS_OK_LEN;
	return 0;
}

int
hwg_vein_parse_status(const uint8_t *p, size_t len, struct hwg_vein_msg_status *m,
                      struct hwg_error *err)
{
	static const char what[] = "STATUS response";
	struct hwg_vein_msg_status t = {0};
	struct hwg_buf *b;
	int rc;

	if ((rc = parse_start(p, len, &b, err)) != 0)
		return rc;
	if ((rc = get_status(b, what, &t.status, err)) == 0 && t.status != HWG_VEIN_ST_OK)
		rc = not_ok_only(b, what, err);
	else if (rc == 0 &&
	         (hwg_buf_get_u8(b, &t.state) != 0 || hwg_buf_get_u8(b, &t.palm_present) != 0))
		rc = bad(err, what, "cut short");
	else if (rc == 0 && (t.state > HWG_VEIN_STATE_FAULT || t.palm_present > 1))
		rc = hwg_error_set(err, HWG_E_TERMINAL_ERROR,
		                   "vein STATUS response: state %u or palm_present %u invalid",
		                   t.state, t.palm_present);
	if ((rc = parse_end(b, what, rc, err)) == 0)
		*m = t;
	return rc;
}

/* ---------------------------------------------------------------- PAIR */

int
hwg_vein_enc_pair_req(const uint8_t nonce[HWG_VEIN_NONCE_LEN], uint8_t *out, size_t cap,
                      size_t *len, struct hwg_error *err)
{
	if (cap < HWG_VEIN_NONCE_LEN)
		return hwg_error_set(err, HWG_E_TOO_LARGE, "vein PAIR payload in %zu bytes", cap);
	memcpy(out, nonce, HWG_VEIN_NONCE_LEN);
	*len = HWG_VEIN_NONCE_LEN;
	return 0;
}

int
hwg_vein_parse_pair_req(const uint8_t *p, size_t len, uint8_t nonce[HWG_VEIN_NONCE_LEN],
                        struct hwg_error *err)
{
	static const char what[] = "PAIR command";
	uint8_t t[HWG_VEIN_NONCE_LEN];
	struct hwg_buf *b;
	int rc;

	if ((rc = parse_start(p, len, &b, err)) != 0)
		return rc;
	if (hwg_buf_get(b, t, sizeof(t)) != 0)
		rc = bad(err, what, "nonce cut short");
	if ((rc = parse_end(b, what, rc, err)) == 0)
		memcpy(nonce, t, sizeof(t));
	return rc;
}

int
hwg_vein_enc_pair(const struct hwg_vein_msg_pair *m, uint8_t *out, size_t cap, size_t *len,
                  struct hwg_error *err)
{
	struct hwg_buf *b;
	int rc;

	if (m->status != HWG_VEIN_ST_OK)
		return hwg_vein_enc_status_only(m->status, out, cap, len, err);
	if ((rc = enc_start(&b, err)) != 0)
		return rc;
	if ((rc = hwg_buf_put_u8(b, m->status)) == 0 && (rc = hwg_buf_put_u8(b, m->key_alg)) == 0 &&
	    (rc = hwg_buf_put(b, m->pubkey, HWG_VEIN_PUBKEY_LEN)) == 0)
		rc = hwg_buf_put(b, m->sig, HWG_VEIN_SIG_LEN);
	return enc_finish(b, rc, "PAIR", out, cap, len, err);
}

int
hwg_vein_parse_pair(const uint8_t *p, size_t len, struct hwg_vein_msg_pair *m,
                    struct hwg_error *err)
{
	static const char what[] = "PAIR response";
	struct hwg_vein_msg_pair t;
	struct hwg_buf *b;
	int rc;

	memset(&t, 0, sizeof(t));
	if ((rc = parse_start(p, len, &b, err)) != 0)
		return rc;
	if ((rc = get_status(b, what, &t.status, err)) == 0 && t.status != HWG_VEIN_ST_OK)
		rc = not_ok_only(b, what, err);
	else if (rc == 0 && (hwg_buf_get_u8(b, &t.key_alg) != 0 ||
	                     hwg_buf_get(b, t.pubkey, HWG_VEIN_PUBKEY_LEN) != 0 ||
	                     hwg_buf_get(b, t.sig, HWG_VEIN_SIG_LEN) != 0))
		rc = bad(err, what, "cut short");
	else if (rc == 0 && t.key_alg != HWG_VEIN_ALG_ED25519)
		rc = hwg_error_set(err, HWG_E_TERMINAL_ERROR,
		                   "vein PAIR response: key algorithm %u unknown", t.key_alg);
	if ((rc = parse_end(b, what, rc, err)) == 0)
		*m = t;
	return rc;
}

/* ---------------------------------------------------------------- signatures */

void
hwg_vein_capture_signed(const uint8_t nonce[HWG_VEIN_NONCE_LEN],
                        const int8_t tmpl[HWG_VEIN_TEMPLATE_LEN], uint8_t quality, uint8_t liveness,
                        uint8_t out[HWG_VEIN_CAPTURE_SIGNED_LEN])
{
	uint8_t *p = out;

	memcpy(p, HWG_VEIN_CAPTURE_DOMAIN, HWG_VEIN_DOMAIN_LEN);
	p += HWG_VEIN_DOMAIN_LEN;
	memcpy(p, nonce, HWG_VEIN_NONCE_LEN);
	p += HWG_VEIN_NONCE_LEN;
	memcpy(p, tmpl, HWG_VEIN_TEMPLATE_LEN);
	p += HWG_VEIN_TEMPLATE_LEN;
	p[0] = quality;
	p[1] = liveness;
}

void
hwg_vein_pair_signed(const uint8_t nonce[HWG_VEIN_NONCE_LEN],
                     const uint8_t pubkey[HWG_VEIN_PUBKEY_LEN],
                     uint8_t out[HWG_VEIN_PAIR_SIGNED_LEN])
{
	memcpy(out, HWG_VEIN_PAIR_DOMAIN, HWG_VEIN_DOMAIN_LEN);
	memcpy(out + HWG_VEIN_DOMAIN_LEN, nonce, HWG_VEIN_NONCE_LEN);
	memcpy(out + HWG_VEIN_DOMAIN_LEN + HWG_VEIN_NONCE_LEN, pubkey, HWG_VEIN_PUBKEY_LEN);
}

/* 1 if sig is pubkey's Ed25519 signature over msg, 0 if not, < 0 on an OpenSSL failure. */
static int
ed25519_verify(const uint8_t pubkey[HWG_VEIN_PUBKEY_LEN], const uint8_t *msg, size_t len,
               const uint8_t sig[HWG_VEIN_SIG_LEN])
{
	EVP_PKEY *key;
	EVP_MD_CTX *ctx;
	int ok = -1;

	key = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, pubkey, HWG_VEIN_PUBKEY_LEN);
	if (key == NULL)
		return 0; /* not a point on the curve: it verifies nothing */
	if ((ctx = EVP_MD_CTX_new()) != NULL &&
	    EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, key) == 1)
		ok = EVP_DigestVerify(ctx, sig, HWG_VEIN_SIG_LEN, msg, len) == 1;
	EVP_MD_CTX_free(ctx);
	EVP_PKEY_free(key);
	return ok;
}

int
hwg_vein_verify_capture(const uint8_t pubkey[HWG_VEIN_PUBKEY_LEN],
                        const uint8_t nonce[HWG_VEIN_NONCE_LEN],
                        const struct hwg_vein_msg_capture *m, struct hwg_error *err)
{
	uint8_t msg[HWG_VEIN_CAPTURE_SIGNED_LEN];
	int ok;

	if (m->status != HWG_VEIN_ST_OK || m->sig_alg != HWG_VEIN_ALG_ED25519)
		return hwg_error_set(err, HWG_E_DEVICE_SIGNATURE,
		                     "capture carries no Ed25519 signature");
	hwg_vein_capture_signed(nonce, m->tmpl, m->quality, m->liveness, msg);
	ok = ed25519_verify(pubkey, msg, sizeof(msg), m->sig);
	hwg_wipe(msg, sizeof(msg));
	if (ok < 0)
		return hwg_error_set(err, HWG_E_INTERNAL, "Ed25519 verification could not run");
	if (!ok)
		return hwg_error_set(err, HWG_E_DEVICE_SIGNATURE,
		                     "capture not signed by the paired device key for this nonce");
	return 0;
}

int
hwg_vein_verify_pair(const uint8_t nonce[HWG_VEIN_NONCE_LEN], const struct hwg_vein_msg_pair *m,
                     struct hwg_error *err)
{
	uint8_t msg[HWG_VEIN_PAIR_SIGNED_LEN];
	int ok;

	if (m->status != HWG_VEIN_ST_OK || m->key_alg != HWG_VEIN_ALG_ED25519)
		return hwg_error_set(err, HWG_E_DEVICE_SIGNATURE, "pairing carries no Ed25519 key");
	hwg_vein_pair_signed(nonce, m->pubkey, msg);
	ok = ed25519_verify(m->pubkey, msg, sizeof(msg), m->sig);
	if (ok < 0)
		return hwg_error_set(err, HWG_E_INTERNAL, "Ed25519 verification could not run");
	if (!ok)
		return hwg_error_set(err, HWG_E_DEVICE_SIGNATURE,
		                     "pairing proof does not verify under the key offered");
	return 0;
}

void
hwg_vein_fingerprint(const uint8_t pubkey[HWG_VEIN_PUBKEY_LEN],
                     char out[HWG_VEIN_FINGERPRINT_LEN + 1])
{
	static const char hex[] = "0123456789abcdef";
	uint8_t d[SHA256_DIGEST_LENGTH];

	SHA256(pubkey, HWG_VEIN_PUBKEY_LEN, d);
	for (size_t i = 0; i < sizeof(d); i++) {
		out[2 * i] = hex[d[i] >> 4];
		out[2 * i + 1] = hex[d[i] & 15];
	}
	out[HWG_VEIN_FINGERPRINT_LEN] = '\0';
}
