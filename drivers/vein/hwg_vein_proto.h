/*
 * hwg_vein_proto.h — the palm-vein terminal's USB protocol v1, as bytes.
 *
 * One codec for both ends, so that the driver (hwg_vein_usb.c) and the
 * simulated terminal (hw-sim/sim_vein.c) frame, parse, sign and verify
 * the very same bytes: frames (magic, version, type, seq, length,
 * payload, CRC-32), one encoder and one parser per message, the byte
 * strings the device key signs, and status codes as text and as
 * HWG_E_* codes.  Pure: no I/O, no logging, no allocation that
 * outlives a call.  Received bytes are hostile and parsed only through
 * common/hwg_buf, bounded by what actually arrived; every parser must
 * consume all of its input.  firmware-notes/vein-terminal.md is the
 * protocol's document; if they disagree, that note is the bug report.
 */
#ifndef HWG_VEIN_PROTO_H
#define HWG_VEIN_PROTO_H

#include <stddef.h>
#include <stdint.h>

#include "hwg_err.h"

/* ------------------------------------------------------------ USB identity */

#define HWG_VEIN_USB_CLASS 0xFF    /* vendor-specific interface */
#define HWG_VEIN_USB_SUBCLASS 0x50 /* 'P': palm vein */
#define HWG_VEIN_USB_PROTOCOL 0x01 /* this document's framing */
#define HWG_VEIN_SIM_VID 0x1209    /* pid.codes; the simulated and test terminal */
#define HWG_VEIN_SIM_PID 0x0001
#define HWG_VEIN_EP_OUT 0x01
#define HWG_VEIN_EP_IN 0x81
#define HWG_VEIN_PACKET_SIZE 512 /* wMaxPacketSize of both bulk endpoints */

/* ------------------------------------------------------------ sizes */

#define HWG_VEIN_VERSION 1 /* the highest version this code speaks */
#define HWG_VEIN_HEADER_LEN 8
#define HWG_VEIN_CRC_LEN 4
#define HWG_VEIN_PAYLOAD_MAX 1024
#define HWG_VEIN_FRAME_MIN (HWG_VEIN_HEADER_LEN + HWG_VEIN_CRC_LEN)
#define HWG_VEIN_FRAME_MAX (HWG_VEIN_HEADER_LEN + HWG_VEIN_PAYLOAD_MAX + HWG_VEIN_CRC_LEN)
/* An IN transfer buffer: whole packets, so a device can never overflow it. */
#define HWG_VEIN_IN_TRANSFER_LEN                                                                   \
	(((HWG_VEIN_FRAME_MAX + HWG_VEIN_PACKET_SIZE - 1) / HWG_VEIN_PACKET_SIZE) *                \
	 HWG_VEIN_PACKET_SIZE)

#define HWG_VEIN_STR_MAX 32
#define HWG_VEIN_NONCE_LEN 32
#define HWG_VEIN_PUBKEY_LEN 32 /* raw Ed25519 */
#define HWG_VEIN_SIG_LEN 64    /* Ed25519 */
#define HWG_VEIN_TEMPLATE_LEN 256
#define HWG_VEIN_TEMPLATE_FORMAT "pv1-256i8"
#define HWG_VEIN_FINGERPRINT_LEN 64 /* hex SHA-256, without the NUL */

#define HWG_VEIN_TIMEOUT_MIN 100 /* CAPTURE timeout_ms bounds */
#define HWG_VEIN_TIMEOUT_MAX 60000
#define HWG_VEIN_ANSWER_MS 200        /* a terminal answers a command within this */
#define HWG_VEIN_CAPTURE_GRACE_MS 500 /* ... and a CAPTURE within timeout_ms + this */

#define HWG_VEIN_ALG_ED25519 1 /* sig_alg of CAPTURE, key_alg of PAIR */

/* The signed byte strings (see hwg_vein_capture_signed). */
#define HWG_VEIN_DOMAIN_LEN 16
#define HWG_VEIN_CAPTURE_DOMAIN "hwgw-pv1-capture" /* exactly 16 bytes */
#define HWG_VEIN_PAIR_DOMAIN "hwgw-pv1-pair\0\0\0" /* 13 bytes and three NULs */
#define HWG_VEIN_CAPTURE_SIGNED_LEN                                                                \
	(HWG_VEIN_DOMAIN_LEN + HWG_VEIN_NONCE_LEN + HWG_VEIN_TEMPLATE_LEN + 2)
#define HWG_VEIN_PAIR_SIGNED_LEN (HWG_VEIN_DOMAIN_LEN + HWG_VEIN_NONCE_LEN + HWG_VEIN_PUBKEY_LEN)

/* ------------------------------------------------------------ message types */

enum {
	HWG_VEIN_GET_INFO = 0x01,
	HWG_VEIN_CAPTURE = 0x02,
	HWG_VEIN_CANCEL = 0x03,
	HWG_VEIN_STATUS = 0x04,
	HWG_VEIN_PAIR = 0x05,
	HWG_VEIN_RESPONSE = 0x80, /* a response's type is its command's | this */
	HWG_VEIN_ERROR = 0xFF     /* terminal → host: a frame it could not take */
};

/* Status codes, the first payload byte of every response. */
enum {
	HWG_VEIN_ST_OK = 0,
	HWG_VEIN_ST_TIMEOUT = 1,     /* no palm within timeout_ms */
	HWG_VEIN_ST_CANCELLED = 2,   /* by CANCEL or the terminal's own button */
	HWG_VEIN_ST_BUSY = 3,        /* a capture is already running */
	HWG_VEIN_ST_BAD_REQUEST = 4, /* framing or payload the terminal refuses */
	HWG_VEIN_ST_UNKNOWN_TYPE = 5,
	HWG_VEIN_ST_BAD_CRC = 6,
	HWG_VEIN_ST_VERSION = 7, /* frame version the terminal does not speak */
	HWG_VEIN_ST_HW_FAULT = 8,
	HWG_VEIN_ST_NOT_CAPTURING = 9, /* CANCEL with no capture running */
	HWG_VEIN_ST_MAX_ = 9
};

/* STATUS's state byte. */
enum { HWG_VEIN_STATE_IDLE = 0, HWG_VEIN_STATE_CAPTURING = 1, HWG_VEIN_STATE_FAULT = 2 };

/* Which end is reading: decides which types a frame may carry. */
enum hwg_vein_dir {
	HWG_VEIN_TO_TERMINAL, /* commands 0x01..0x05 */
	HWG_VEIN_TO_HOST      /* responses 0x81..0x85 and ERROR */
};

/* ------------------------------------------------------------ frames */

/* CRC-32 (IEEE, zlib's crc32) of len bytes. */
uint32_t hwg_vein_crc(const uint8_t *p, size_t len);

/*
 * Frame payload (payload_len <= HWG_VEIN_PAYLOAD_MAX; payload may be NULL
 * when empty) as version HWG_VEIN_VERSION into out (cap bytes); *len
 * receives the frame's size.  Any type may be framed, so that tests can
 * send what a terminal must refuse.  HWG_E_INVALID for a payload over the
 * maximum, HWG_E_TOO_LARGE if cap is short.
 */
int hwg_vein_frame_encode(uint8_t type, uint16_t seq, const uint8_t *payload, size_t payload_len,
                          uint8_t *out, size_t cap, size_t *len, struct hwg_error *err);

struct hwg_vein_frame {
	uint8_t version;
	uint8_t type;
	uint16_t seq;
	const uint8_t *payload; /* points into the decoded bytes */
	size_t payload_len;
	/* After a failure, what a terminal answers in ERROR: */
	uint8_t refusal; /* HWG_VEIN_ST_BAD_REQUEST, _BAD_CRC, _VERSION or _UNKNOWN_TYPE */
	int seq_known;   /* magic and header arrived, so seq is the sender's */
};

/*
 * Exactly one frame from the len bytes received (never trusting the
 * length field past them; no trailing bytes): magic, length, CRC, then
 * version (1, except that ERROR frames are read at any version: their
 * layout is fixed for all versions, so a host learns the terminal's
 * version from them), then a type valid in direction dir.  *f is always
 * filled as far as the bytes allow.  HWG_E_TERMINAL_ERROR with a message
 * naming the fault, and f->refusal set.
 */
int hwg_vein_frame_decode(const uint8_t *data, size_t len, enum hwg_vein_dir dir,
                          struct hwg_vein_frame *f, struct hwg_error *err);

/*
 * Host side: 0 if f answers the command (type, seq) just sent.  An ERROR
 * frame gives its status's HWG_E_* code and text (with the terminal's
 * version for ERROR/VERSION); another type or seq HWG_E_TERMINAL_ERROR.
 */
int hwg_vein_frame_expect(const struct hwg_vein_frame *f, uint8_t type, uint16_t seq,
                          struct hwg_error *err);

/* ------------------------------------------------------------ statuses */

/* "ok", "timeout", ...; "unknown status" past HWG_VEIN_ST_MAX_. */
const char *hwg_vein_status_text(uint8_t status);

/*
 * 0 for OK; otherwise TIMEOUT → HWG_E_CAPTURE_TIMEOUT, CANCELLED →
 * HWG_E_CAPTURE_CANCELLED, BUSY → HWG_E_TERMINAL_BUSY, any other →
 * HWG_E_TERMINAL_ERROR, with "<what>: terminal answered <text>" in err.
 */
int hwg_vein_status_error(uint8_t status, const char *what, struct hwg_error *err);

/* ------------------------------------------------------------ messages */

/*
 * Encoders write one payload into out (cap bytes), *len its size:
 * HWG_E_INVALID for a field outside its range, HWG_E_TOO_LARGE if cap
 * is short.  Parsers take a payload (struct hwg_vein_frame's) and return
 * 0 only for a well-formed one consumed to its last byte, whatever its
 * status; HWG_E_TERMINAL_ERROR naming the fault otherwise.  Every
 * response starts with its status; a response whose status is not OK
 * carries that byte only.
 */

/* GET_INFO, CANCEL and STATUS commands carry nothing. */
int hwg_vein_parse_empty(const uint8_t *p, size_t len, struct hwg_error *err);

/* A status byte alone: the CANCEL response, the ERROR frame, any not-OK response. */
int hwg_vein_enc_status_only(uint8_t status, uint8_t *out, size_t cap, size_t *len,
                             struct hwg_error *err);
/* CANCEL's response: any known status. */
int hwg_vein_parse_cancel_resp(const uint8_t *p, size_t len, uint8_t *status,
                               struct hwg_error *err);
/* ERROR's payload: BAD_REQUEST, UNKNOWN_TYPE, BAD_CRC or VERSION. */
int hwg_vein_parse_error(const uint8_t *p, size_t len, uint8_t *status, struct hwg_error *err);

/* GET_INFO response.  Strings: 1..HWG_VEIN_STR_MAX printable ASCII bytes. */
struct hwg_vein_msg_info {
	uint8_t status;
	char model[HWG_VEIN_STR_MAX + 1];
	char serial[HWG_VEIN_STR_MAX + 1];
	char firmware[HWG_VEIN_STR_MAX + 1];
	char template_format[HWG_VEIN_STR_MAX + 1]; /* the driver wants HWG_VEIN_TEMPLATE_FORMAT */
};
int hwg_vein_enc_info(const struct hwg_vein_msg_info *m, uint8_t *out, size_t cap, size_t *len,
                      struct hwg_error *err);
int hwg_vein_parse_info(const uint8_t *p, size_t len, struct hwg_vein_msg_info *m,
                        struct hwg_error *err);

/* CAPTURE command. */
struct hwg_vein_msg_capture_req {
	uint8_t nonce[HWG_VEIN_NONCE_LEN];
	uint16_t timeout_ms; /* HWG_VEIN_TIMEOUT_MIN..HWG_VEIN_TIMEOUT_MAX */
};
int hwg_vein_enc_capture_req(const struct hwg_vein_msg_capture_req *m, uint8_t *out, size_t cap,
                             size_t *len, struct hwg_error *err);
int hwg_vein_parse_capture_req(const uint8_t *p, size_t len, struct hwg_vein_msg_capture_req *m,
                               struct hwg_error *err);

/* CAPTURE response; the fields after status only when status is OK. */
struct hwg_vein_msg_capture {
	uint8_t status;
	uint8_t quality;  /* 0..100 */
	uint8_t liveness; /* 0..100 */
	int8_t tmpl[HWG_VEIN_TEMPLATE_LEN];
	uint8_t sig_alg; /* HWG_VEIN_ALG_ED25519 */
	uint8_t sig[HWG_VEIN_SIG_LEN];
};
int hwg_vein_enc_capture(const struct hwg_vein_msg_capture *m, uint8_t *out, size_t cap,
                         size_t *len, struct hwg_error *err);
int hwg_vein_parse_capture(const uint8_t *p, size_t len, struct hwg_vein_msg_capture *m,
                           struct hwg_error *err);

/* STATUS response. */
struct hwg_vein_msg_status {
	uint8_t status;
	uint8_t state;        /* HWG_VEIN_STATE_* */
	uint8_t palm_present; /* 0 or 1 */
};
int hwg_vein_enc_status(const struct hwg_vein_msg_status *m, uint8_t *out, size_t cap, size_t *len,
                        struct hwg_error *err);
int hwg_vein_parse_status(const uint8_t *p, size_t len, struct hwg_vein_msg_status *m,
                          struct hwg_error *err);

/* PAIR command: the nonce only. */
int hwg_vein_enc_pair_req(const uint8_t nonce[HWG_VEIN_NONCE_LEN], uint8_t *out, size_t cap,
                          size_t *len, struct hwg_error *err);
int hwg_vein_parse_pair_req(const uint8_t *p, size_t len, uint8_t nonce[HWG_VEIN_NONCE_LEN],
                            struct hwg_error *err);

/* PAIR response. */
struct hwg_vein_msg_pair {
	uint8_t status;
	uint8_t key_alg; /* HWG_VEIN_ALG_ED25519 */
	uint8_t pubkey[HWG_VEIN_PUBKEY_LEN];
	uint8_t sig[HWG_VEIN_SIG_LEN];
};
int hwg_vein_enc_pair(const struct hwg_vein_msg_pair *m, uint8_t *out, size_t cap, size_t *len,
                      struct hwg_error *err);
int hwg_vein_parse_pair(const uint8_t *p, size_t len, struct hwg_vein_msg_pair *m,
                        struct hwg_error *err);

/* ------------------------------------------------------------ signatures */

/*
 * The bytes a terminal signs for a capture:
 *   "hwgw-pv1-capture" ‖ nonce ‖ template ‖ quality ‖ liveness
 * (16 + 32 + 256 + 1 + 1).  The domain string keeps a capture signature
 * from ever passing as a pairing proof or anything else the key signs.
 */
void hwg_vein_capture_signed(const uint8_t nonce[HWG_VEIN_NONCE_LEN],
                             const int8_t tmpl[HWG_VEIN_TEMPLATE_LEN], uint8_t quality,
                             uint8_t liveness, uint8_t out[HWG_VEIN_CAPTURE_SIGNED_LEN]);

/* The pairing proof's bytes: "hwgw-pv1-pair\0\0\0" ‖ nonce ‖ pubkey (16 + 32 + 32). */
void hwg_vein_pair_signed(const uint8_t nonce[HWG_VEIN_NONCE_LEN],
                          const uint8_t pubkey[HWG_VEIN_PUBKEY_LEN],
                          uint8_t out[HWG_VEIN_PAIR_SIGNED_LEN]);

/*
 * 0 if the OK capture m is signed (Ed25519) by pubkey over nonce;
 * HWG_E_DEVICE_SIGNATURE otherwise (a wrong key, another nonce, a
 * changed template, quality or liveness, another sig_alg).
 */
int hwg_vein_verify_capture(const uint8_t pubkey[HWG_VEIN_PUBKEY_LEN],
                            const uint8_t nonce[HWG_VEIN_NONCE_LEN],
                            const struct hwg_vein_msg_capture *m, struct hwg_error *err);

/* 0 if the OK pair response m proves possession of m->pubkey over nonce; else
 * HWG_E_DEVICE_SIGNATURE. */
int hwg_vein_verify_pair(const uint8_t nonce[HWG_VEIN_NONCE_LEN], const struct hwg_vein_msg_pair *m,
                         struct hwg_error *err);

/*
 * Lower-case hex SHA-256 of the raw public key: what the terminal shows
 * on its display and the admin compares at pairing.
 */
void hwg_vein_fingerprint(const uint8_t pubkey[HWG_VEIN_PUBKEY_LEN],
                          char out[HWG_VEIN_FINGERPRINT_LEN + 1]);

#endif
