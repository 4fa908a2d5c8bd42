/*
 * hwg_buf.h — the one bounded byte buffer used for building and parsing.
 *
 * Modelled on OpenSSH's sshbuf: a maximum size fixed at creation, getters
 * that check length before consuming and leave outputs untouched on
 * failure, and memory wiped on free (buffers may carry PINs or key
 * material).  Device replies and client frames are parsed only through
 * this type, bounded by the bytes actually received.
 */
#ifndef HWG_BUF_H
#define HWG_BUF_H

#include <stddef.h>
#include <stdint.h>

struct hwg_buf;

/* New empty buffer that refuses to grow past max bytes. NULL on ENOMEM. */
struct hwg_buf *hwg_buf_new(size_t max);
/* Read-only buffer over existing bytes (not copied, not freed). */
struct hwg_buf *hwg_buf_from(const void *data, size_t len);
/* Wipe and free; accepts NULL. */
void hwg_buf_free(struct hwg_buf *b);

/* Unconsumed bytes; the pointer is never NULL, even for an empty buffer. */
size_t hwg_buf_len(const struct hwg_buf *b);
const uint8_t *hwg_buf_ptr(const struct hwg_buf *b);
/* Drop all contents (wiped). */
void hwg_buf_reset(struct hwg_buf *b);

/* Appends: HWG_E_TOO_LARGE past max, HWG_E_INVALID on a read-only buffer. */
int hwg_buf_put(struct hwg_buf *b, const void *data, size_t len);
int hwg_buf_put_u8(struct hwg_buf *b, uint8_t v);
int hwg_buf_put_u16be(struct hwg_buf *b, uint16_t v);
int hwg_buf_put_u32be(struct hwg_buf *b, uint32_t v);
int hwg_buf_put_u64be(struct hwg_buf *b, uint64_t v);
/* u32be length followed by the bytes. */
int hwg_buf_put_string(struct hwg_buf *b, const void *data, size_t len);

/* Consumers: HWG_E_BAD_ENCODING if too few bytes remain; out untouched. */
int hwg_buf_get(struct hwg_buf *b, void *out, size_t len);
int hwg_buf_get_u8(struct hwg_buf *b, uint8_t *v);
int hwg_buf_get_u16be(struct hwg_buf *b, uint16_t *v);
int hwg_buf_get_u32be(struct hwg_buf *b, uint32_t *v);
int hwg_buf_get_u64be(struct hwg_buf *b, uint64_t *v);
/* Point *p at the next len bytes (valid until the buffer changes). */
int hwg_buf_get_view(struct hwg_buf *b, size_t len, const uint8_t **p);
/* u32be length (at most maxlen) then a view of the bytes. */
int hwg_buf_get_string_view(struct hwg_buf *b, size_t maxlen, const uint8_t **p, size_t *len);
int hwg_buf_skip(struct hwg_buf *b, size_t len);

#endif
