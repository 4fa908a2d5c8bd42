/*
 * hwg_ber.c — BER TLV reading for card files (see hwg_ber.h for the rules).
 */
#include "hwg_ber.h"

#include <string.h>

#define MAX_TAG_BYTES 3
#define MAX_LENGTH_BYTES 4

static int
read_tag(const uint8_t *p, size_t avail, struct hwg_ber_tlv *out, size_t *used,
         struct hwg_error *err)
{
	size_t i = 1;

	if (avail < 1)
		return hwg_error_set(err, HWG_E_INVALID, "TLV truncated before its tag");
	out->tag = p[0];
	out->constructed = (p[0] & 0x20) != 0;
	if ((p[0] & 0x1f) == 0x1f) {
		/* high-tag form: more bytes while bit 8 is set */
		do {
			if (i >= avail)
				return hwg_error_set(err, HWG_E_INVALID,
				                     "TLV truncated inside its tag");
			if (i >= MAX_TAG_BYTES)
				return hwg_error_set(err, HWG_E_INVALID,
				                     "TLV tag longer than %d bytes", MAX_TAG_BYTES);
			out->tag = (out->tag << 8) | p[i];
		} while (p[i++] & 0x80);
	}
	*used = i;
	return 0;
}

static int
read_length(const uint8_t *p, size_t avail, size_t *len, size_t *used, struct hwg_error *err)
{
	size_t n;

	if (avail < 1)
		return hwg_error_set(err, HWG_E_INVALID, "TLV truncated before its length");
	if (p[0] < 0x80) {
		*len = p[0];
		*used = 1;
		return 0;
	}
	if (p[0] == 0x80)
		return hwg_error_set(err, HWG_E_INVALID, "indefinite TLV length refused");
	n = p[0] & 0x7f;
	if (n > MAX_LENGTH_BYTES)
		return hwg_error_set(err, HWG_E_INVALID, "TLV length of %zu bytes refused", n);
	if (avail < 1 + n)
		return hwg_error_set(err, HWG_E_INVALID, "TLV truncated inside its length");
	*len = 0;
	for (size_t i = 1; i <= n; i++)
		*len = (*len << 8) | p[i];
	*used = 1 + n;
	return 0;
}

int
hwg_ber_header(const uint8_t *p, size_t avail, struct hwg_ber_tlv *out, struct hwg_error *err)
{
	size_t tag_len = 0, len_len = 0;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = read_tag(p, avail, out, &tag_len, err)) != 0)
		return rc;
	if ((rc = read_length(p + tag_len, avail - tag_len, &out->len, &len_len, err)) != 0)
		return rc;
	out->header_len = tag_len + len_len;
	return 0;
}

int
hwg_ber_read(const uint8_t *p, size_t avail, struct hwg_ber_tlv *out, struct hwg_error *err)
{
	int rc;

	if ((rc = hwg_ber_header(p, avail, out, err)) != 0)
		return rc;
	if (out->len > avail - out->header_len)
		return hwg_error_set(err, HWG_E_INVALID, "TLV %X claims %zu bytes but %zu are left",
		                     (unsigned)out->tag, out->len, avail - out->header_len);
	out->value = p + out->header_len;
	return 0;
}

int
hwg_ber_find(const uint8_t *value, size_t len, uint32_t tag, struct hwg_ber_tlv *out,
             struct hwg_error *err)
{
	size_t off = 0;
	int rc;

	while (off < len) {
		if ((rc = hwg_ber_read(value + off, len - off, out, err)) != 0)
			return rc;
		if (out->tag == tag)
			return 0;
		off += out->header_len + out->len;
	}
	return hwg_error_set(err, HWG_E_NOT_FOUND, "TLV %X not present", (unsigned)tag);
}
