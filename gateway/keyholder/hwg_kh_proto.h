/*
 * hwg_kh_proto.h — the keyholder's messages, over the one internal
 * framing (gateway/shared/hwg_msg.h: hwg_msg_send, hwg_msg_recv).  Both sides
 * build and read them here and nowhere else: one encoder and one strict
 * decoder per message, bytes in and a struct out, no I/O, nothing left
 * over.  Pure code, so the parsers can be tested and fuzzed alone.
 *
 * The keyholder's types take 16-31, apart from hwg_msg.h's (1-3); the
 * framing carries types below 32 only.  Every request gets one
 * HWG_KH_REPLY with the request's id: a code (0 or a negative HWG_E_*),
 * a message (at most HWG_KH_TEXT_MAX bytes, "" on success) and, on
 * success only, the result, whose length each request fixes.  Integers
 * are big-endian; a string is a u32 length and its bytes.
 *
 *   READY            keyholder → privileged, once, first: code, message
 *   REPLY            keyholder → privileged: code, message, result (string)
 *   INFO             (empty) → struct hwg_keyholder_info
 *   SIGN_RESPONSE    string Sig_structure → 64-byte signature
 *   SIGN_CHECKPOINT  u64 seq, 32-byte chain head hash, u64 time_ms → 64 bytes
 *   SEAL_TEMPLATE    string operator id, HWG_MATCH_DIM bytes → sealed blob
 *   OPEN_TEMPLATE    string operator id, string sealed blob → HWG_MATCH_DIM bytes
 *   SEAL_SUMMARY     a certificate's summary, field by field → its COSE_Sign1
 *   SEAL_PDF         string issuance number, 32-byte PDF digest → 64-byte seal
 */
#ifndef HWG_KH_PROTO_H
#define HWG_KH_PROTO_H

#include <stddef.h>
#include <stdint.h>

#include "hwg_buf.h"
#include "hwg_certcode.h"
#include "hwg_err.h"
#include "hwg_keyholder.h"
#include "hwg_match.h"

enum hwg_kh_msg_type {
	HWG_KH_READY = 16,
	HWG_KH_REPLY = 17,
	HWG_KH_INFO = 20,
	HWG_KH_SIGN_RESPONSE = 21,
	HWG_KH_SIGN_CHECKPOINT = 22,
	HWG_KH_SEAL_TEMPLATE = 23,
	HWG_KH_OPEN_TEMPLATE = 24,
	HWG_KH_SEAL_SUMMARY = 25,
	HWG_KH_SEAL_PDF = 26,
};

/*
 * The keyholder's exit status when the token refused the PIN: it is not
 * started again (a real HSM counts failed tries and locks the PIN), as
 * hwg_p11 never retries a refused PIN.  Its other exits: 0 the link
 * closed, 1 it could not start, 2 usage, 3 the link broke.
 */
#define HWG_KH_EXIT_PIN_REFUSED 4

#define HWG_KH_TEXT_MAX 255
/* The largest Sig_structure the keyholder reads (a response of up to 16 MiB). */
#define HWG_KH_TBS_MAX (16u * 1024 * 1024 + 32 * 1024)
/* The longest sealed blob OPEN_TEMPLATE carries (hwg_template_open judges its length). */
#define HWG_KH_BLOB_MAX 4096
#define HWG_KH_SIG_LEN 64
#define HWG_KH_HASH_LEN 32

/* ---------------------------------------------------------------- replies */

/* code 0: message "" and result; code < 0: message, no result. */
int hwg_kh_reply_encode(int code, const char *message, const uint8_t *result, size_t result_len,
                        struct hwg_buf *b);
/*
 * Decode: *code a known HWG_E_* or 0, message (NUL-terminated, no NUL or
 * control bytes inside), *result a view into b (valid while b is).
 * HWG_E_BAD_ENCODING for anything else.
 */
int hwg_kh_reply_decode(struct hwg_buf *b, int *code, char message[HWG_KH_TEXT_MAX + 1],
                        const uint8_t **result, size_t *result_len, struct hwg_error *err);

/* READY: a code and a message only. */
int hwg_kh_ready_encode(int code, const char *message, struct hwg_buf *b);
int hwg_kh_ready_decode(struct hwg_buf *b, int *code, char message[HWG_KH_TEXT_MAX + 1],
                        struct hwg_error *err);

/* ---------------------------------------------------------------- requests */

/*
 * SIGN_RESPONSE's body is one string; decoding checks its shape only
 * (hwg_kh_response_check judges the bytes).  *tbs is a view into b.
 */
int hwg_kh_sign_response_encode(const uint8_t *tbs, size_t len, struct hwg_buf *b);
int hwg_kh_sign_response_decode(struct hwg_buf *b, const uint8_t **tbs, size_t *len,
                                struct hwg_error *err);
/*
 * What the response key may sign: exactly the gateway's encoding
 * (hwg_cose_sig_structure) of ["Signature1", h'a101<alg>', h'', payload]
 * with alg the response key's, whose payload is one response map of
 * gateway/api.cddl: "v" 1, "req" a 32-byte bstr, "t" a uint and exactly
 * one of "ok" (any CBOR) or "err" ({"code": a known error code, "msg":
 * text, ? "tries": uint}), no other key, nothing after it.  0, or
 * HWG_E_BAD_ARGS with a message naming the fault.
 */
int hwg_kh_response_check(int alg, const uint8_t *tbs, size_t len, struct hwg_error *err);

struct hwg_kh_checkpoint {
	int64_t seq; /* >= 1 */
	uint8_t hash[HWG_KH_HASH_LEN];
	int64_t time_ms; /* >= 0 */
};
int hwg_kh_checkpoint_encode(const struct hwg_kh_checkpoint *cp, struct hwg_buf *b);
int hwg_kh_checkpoint_decode(struct hwg_buf *b, struct hwg_kh_checkpoint *cp,
                             struct hwg_error *err);

/*
 * SEAL_TEMPLATE / OPEN_TEMPLATE: the operator id (1 to HWG_MATCH_ID_MAX
 * bytes of its grammar, hwg_operator_id_valid), then for a seal exactly
 * HWG_MATCH_DIM template bytes, for an open one string of at most
 * HWG_KH_BLOB_MAX bytes.  *data is a view into b.
 */
int hwg_kh_seal_encode(const char *operator_id, const int8_t tmpl[HWG_MATCH_DIM],
                       struct hwg_buf *b);
int hwg_kh_seal_decode(struct hwg_buf *b, char operator_id[HWG_MATCH_ID_MAX + 1],
                       const uint8_t **tmpl, struct hwg_error *err);
int hwg_kh_open_encode(const char *operator_id, const uint8_t *blob, size_t len, struct hwg_buf *b);
int hwg_kh_open_decode(struct hwg_buf *b, char operator_id[HWG_MATCH_ID_MAX + 1],
                       const uint8_t **blob, size_t *len, struct hwg_error *err);

/*
 * SEAL_SUMMARY: a certificate's summary as its fields, so that the seal
 * key signs summaries the keyholder built and nothing else: string no,
 * the 32-byte document digest, string kind, string date, string gw,
 * string orig ("" on an original); each string at most its field's size
 * (crypto/hwg_certcode.h) without a NUL or control byte, and the whole a
 * summary (hwg_certcode_summary_check).  The keyholder encodes the map,
 * signs it (ES256, kid = gw) and answers the COSE_Sign1's bytes.
 */
int hwg_kh_summary_encode(const struct hwg_certcode_summary *s, struct hwg_buf *b);
int hwg_kh_summary_decode(struct hwg_buf *b, struct hwg_certcode_summary *s, struct hwg_error *err);
/*
 * SEAL_PDF: string issuance number (hwg_certcode_number_valid, any
 * gateway), then the PDF's 32-byte SHA-256; the keyholder signs
 * ["hwgw-pdf-seal-v1", no, digest] (hwg_certcode_pdf_seal_tbs) and
 * answers the 64-byte seal.
 */
int hwg_kh_pdf_encode(const char *issuance_no, const uint8_t digest[HWG_KH_HASH_LEN],
                      struct hwg_buf *b);
int hwg_kh_pdf_decode(struct hwg_buf *b, char issuance_no[HWG_CERTCODE_NO_MAX + 1],
                      uint8_t digest[HWG_KH_HASH_LEN], struct hwg_error *err);

/*
 * INFO's result.  Decoding checks every field, each key's DER against its
 * algorithm; the seal key, when the token has one, is P-256.
 */
int hwg_kh_info_encode(const struct hwg_keyholder_info *in, struct hwg_buf *b);
int hwg_kh_info_decode(struct hwg_buf *b, struct hwg_keyholder_info *out, struct hwg_error *err);

#endif
