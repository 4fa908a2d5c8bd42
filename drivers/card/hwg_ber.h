/*
 * hwg_ber.h — a strict reader for the BER TLVs that My Number cards store.
 *
 * The card writes BER, not DER: tags in the high-tag form even when small
 * (FF 10, DF 21) and lengths in non-minimal long forms (82 00 9F).  This
 * reader takes every definite length form up to four length bytes and
 * refuses what a hostile or broken card could use to make us read past a
 * buffer: truncated headers, values longer than what is left, indefinite
 * lengths, tags longer than three bytes.  It never allocates: a TLV points
 * into the caller's buffer.
 */
#ifndef HWG_BER_H
#define HWG_BER_H

#include <stddef.h>
#include <stdint.h>

#include "hwg_err.h"

struct hwg_ber_tlv {
	uint32_t tag;         /* tag bytes as read: 0x30, 0xFF10, 0xDF21 */
	int constructed;      /* bit 6 of the first tag byte */
	const uint8_t *value; /* points into the input */
	size_t len;           /* value length */
	size_t header_len;    /* tag and length bytes */
};

/*
 * Read the TLV header at p[0..avail) and check that its value fits.
 * HWG_E_INVALID with a message saying what was wrong.
 */
int hwg_ber_read(const uint8_t *p, size_t avail, struct hwg_ber_tlv *out, struct hwg_error *err);

/*
 * Read only the header (tag and length) at p[0..avail): for callers that
 * learn from the first bytes of a file how much more to read.  The value
 * need not be present; out->value is NULL.
 */
int hwg_ber_header(const uint8_t *p, size_t avail, struct hwg_ber_tlv *out, struct hwg_error *err);

/*
 * Find the first child with this tag among the TLVs that exactly fill
 * value[0..len) (a constructed value).  HWG_E_NOT_FOUND if absent,
 * HWG_E_INVALID if any child is malformed.
 */
int hwg_ber_find(const uint8_t *value, size_t len, uint32_t tag, struct hwg_ber_tlv *out,
                 struct hwg_error *err);

#endif
