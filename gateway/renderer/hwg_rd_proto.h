/*
 * hwg_rd_proto.h — the renderer's messages, over the one internal framing
 * (gateway/shared/hwg_msg.h: hwg_msg_send, hwg_msg_recv).  Both sides
 * build and read them here and nowhere else: one encoder and one strict
 * decoder per message, bytes in and a struct out, no I/O, nothing left
 * over.  Pure code (libcbor only), so the decoders can be tested and
 * fuzzed alone.
 *
 * The renderer's types take 28-30, apart from hwg_msg.h's (1-3) and the
 * keyholder's (16-24).  Bodies are CBOR:
 *
 *   READY   renderer → privileged, once, first: {} or {"code", "msg"}
 *   RENDER  privileged → renderer: the render request (below)
 *   REPLY   renderer → privileged, with RENDER's id:
 *           {"pdf": bstr, "pages": uint} or {"code": tstr, "msg": tstr}
 *
 * The render request (the certificate plan's "Renderer" section):
 *
 *   { "kind": "juminhyo" / "kisai" / "tenshutsu" / "inkan",
 *     "no": tstr, "date": "YYYY-MM-DD", "city": tstr, "mayor": tstr,
 *     "household": bool, "people": [+ { + tstr => tstr }],
 *     "my_number": bool, "code": tstr, ? "reprint": { "orig": tstr } }
 *
 * A person's keys are the field names of the plan (hwg_rd_field_name);
 * what a value may hold is checked here, which fields a kind requires is
 * the gateway's check (the document), not the renderer's.
 */
#ifndef HWG_RD_PROTO_H
#define HWG_RD_PROTO_H

#include <stddef.h>
#include <stdint.h>

#include "hwg_buf.h"
#include "hwg_err.h"

enum hwg_rd_msg_type {
	HWG_RD_READY = 28,
	HWG_RD_REPLY = 29,
	HWG_RD_RENDER = 30,
};

/* Limits: each one a refusal of its own (test_render, fuzz_render_request). */
#define HWG_RD_REQUEST_MAX (256u * 1024) /* the encoded request */
#define HWG_RD_PEOPLE_MAX 60             /* 20 pages at 3 a page */
#define HWG_RD_VALUE_MAX 200             /* bytes of a field's value */
#define HWG_RD_NAME_MAX 64               /* bytes of a name (氏名) */
#define HWG_RD_NO_MAX 64                 /* an issuance number */
#define HWG_RD_TEXT_MAX 64               /* the city, the mayor */
#define HWG_RD_CODE_MAX 1024             /* the QR text */
#define HWG_RD_PDF_MAX (8u * 1024 * 1024)
#define HWG_RD_MSG_MAX 255 /* an error's message */

enum hwg_rd_kind {
	HWG_RD_JUMINHYO,  /* 住民票の写し */
	HWG_RD_KISAI,     /* 住民票記載事項証明書 */
	HWG_RD_TENSHUTSU, /* 転出証明書 */
	HWG_RD_INKAN,     /* 印鑑登録証明書 */
	HWG_RD_KINDS
};

/* The fields, in the order a person's table shows them. */
enum hwg_rd_field {
	HWG_RD_NAME,             /* 氏名 */
	HWG_RD_KANA,             /* フリガナ */
	HWG_RD_BIRTH,            /* 生年月日 (date) */
	HWG_RD_SEX,              /* 性別 */
	HWG_RD_RELATION,         /* 続柄 */
	HWG_RD_HEAD,             /* 世帯主 */
	HWG_RD_ADDRESS,          /* 住所 */
	HWG_RD_RESIDENT_SINCE,   /* 住民となった年月日 (date) */
	HWG_RD_ADDRESS_SINCE,    /* 住所を定めた年月日 (date) */
	HWG_RD_NOTIFIED,         /* 届出日 (date) */
	HWG_RD_PREVIOUS_ADDRESS, /* 前住所 */
	HWG_RD_MOVING_TO,        /* 転出先 */
	HWG_RD_MOVING_DATE,      /* 転出予定年月日 (date) */
	HWG_RD_SEAL_NO,          /* 印鑑登録番号 */
	HWG_RD_MY_NUMBER,        /* 個人番号 */
	HWG_RD_FIELDS
};

/* "juminhyo" ...; NULL outside the enum.  _from_name: the kind or -1. */
const char *hwg_rd_kind_name(int kind);
int hwg_rd_kind_from_name(const char *name);
/* "name" ...; NULL outside the enum.  _from_name: the field or -1. */
const char *hwg_rd_field_name(int field);
int hwg_rd_field_from_name(const char *name);
/* 1 if the field holds a date (YYYY-MM-DD). */
int hwg_rd_field_is_date(int field);
/* 1 if s is a YYYY-MM-DD date of the Gregorian calendar, years 1800-2999. */
int hwg_rd_date_valid(const char *s);

struct hwg_rd_person {
	char *value[HWG_RD_FIELDS]; /* malloc'd UTF-8, NULL: absent */
};

struct hwg_rd_request {
	int kind;
	char no[HWG_RD_NO_MAX + 1];
	char date[11];
	char city[HWG_RD_TEXT_MAX + 1];
	char mayor[HWG_RD_TEXT_MAX + 1];
	int household;
	int my_number;
	char code[HWG_RD_CODE_MAX + 1];
	char orig[HWG_RD_NO_MAX + 1]; /* "" when not a reprint */
	struct hwg_rd_person *people; /* malloc'd, n_people of them */
	size_t n_people;
};

/*
 * Decode and check a render request: 0 with *out filled (release it with
 * hwg_rd_request_clear), or HWG_E_BAD_ARGS with a message naming the
 * fault (HWG_E_TOO_LARGE over HWG_RD_REQUEST_MAX, HWG_E_NOMEM); *out is
 * then empty.  Refused: not one CBOR map, a key missing, unknown or
 * twice, a kind outside the four, a number outside [A-Za-z0-9._-], a
 * date that is not one, people empty or over HWG_RD_PEOPLE_MAX, a person
 * that is not a map of known field names to text, a person without a
 * name, a value empty, over its length, with a control character or (a
 * date field) not a date, a My Number field when "my_number" is false or
 * on a kind that may not show it (tenshutsu, inkan), an inkan request
 * for more than one person, a QR text outside printable ASCII.
 */
int hwg_rd_request_decode(const uint8_t *p, size_t len, struct hwg_rd_request *out,
                          struct hwg_error *err);
/*
 * Encode r (the same checks as decoding, so what is encoded decodes);
 * *out malloc'd.  HWG_E_BAD_ARGS naming the fault, HWG_E_NOMEM.
 */
int hwg_rd_request_encode(const struct hwg_rd_request *r, uint8_t **out, size_t *len,
                          struct hwg_error *err);
/* Set a person's field by name (a copy); HWG_E_INVALID for an unknown name, HWG_E_NOMEM. */
int hwg_rd_person_set(struct hwg_rd_person *p, const char *field, const char *value);
/* Wipe and free what the request holds (people, values); accepts NULL and an empty one. */
void hwg_rd_request_clear(struct hwg_rd_request *r);

/* READY: code 0 ({}) or an error with its message. */
int hwg_rd_ready_encode(int code, const char *msg, struct hwg_buf *b);
int hwg_rd_ready_decode(struct hwg_buf *b, int *code, char msg[HWG_RD_MSG_MAX + 1],
                        struct hwg_error *err);
/* REPLY with a PDF (1 to HWG_RD_PDF_MAX bytes, pages >= 1), or with an error (code < 0). */
int hwg_rd_reply_encode_pdf(const uint8_t *pdf, size_t len, unsigned pages, struct hwg_buf *b);
int hwg_rd_reply_encode_error(int code, const char *msg, struct hwg_buf *b);
/*
 * Decode a REPLY: *code 0 with *pdf (a view into b, valid while b is),
 * *len and *pages; or *code a known HWG_E_* with msg.  HWG_E_BAD_ENCODING
 * for anything else (the caller ends a renderer that sends it).
 */
int hwg_rd_reply_decode(struct hwg_buf *b, int *code, char msg[HWG_RD_MSG_MAX + 1],
                        const uint8_t **pdf, size_t *len, unsigned *pages, struct hwg_error *err);

#endif
