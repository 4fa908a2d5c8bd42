/*
 * hwg_text.c — see hwg_text.h.
 */
#include "hwg_text.h"

#include <string.h>

/* Length of the valid UTF-8 sequence at p (at most n bytes), 0 if none starts there. */
static size_t
utf8_seq(const uint8_t *p, size_t n)
{
	uint8_t c = p[0];
	size_t len;
	uint32_t lo = 0x80, hi = 0xbf; /* range of the second byte */

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		len = 2;
	else if (c >= 0xe0 && c <= 0xef)
		len = 3;
	else if (c >= 0xf0 && c <= 0xf4)
		len = 4;
	else
		return 0; /* continuation byte, overlong lead (c0, c1) or beyond U+10FFFF */
	if (c == 0xe0)
		lo = 0xa0; /* overlong */
	else if (c == 0xed)
		hi = 0x9f; /* surrogates */
	else if (c == 0xf0)
		lo = 0x90; /* overlong */
	else if (c == 0xf4)
		hi = 0x8f; /* above U+10FFFF */
	if (n < len || p[1] < lo || p[1] > hi)
		return 0;
	for (size_t i = 2; i < len; i++)
		if ((p[i] & 0xc0) != 0x80)
			return 0;
	return len;
}

size_t
hwg_utf8_next(const uint8_t *p, size_t n, uint32_t *cp)
{
	static const uint8_t lead_mask[5] = {0, 0x7f, 0x1f, 0x0f, 0x07};
	size_t len = n > 0 ? utf8_seq(p, n) : 0;
	uint32_t v;

	if (len == 0)
		return 0;
	v = p[0] & lead_mask[len];
	for (size_t i = 1; i < len; i++)
		v = v << 6 | (p[i] & 0x3f);
	*cp = v;
	return len;
}

int
hwg_utf8_valid(const uint8_t *p, size_t n)
{
	while (n > 0) {
		size_t len = utf8_seq(p, n);

		if (len == 0)
			return 0;
		p += len;
		n -= len;
	}
	return 1;
}

char *
hwg_text_escape(char *out, size_t outlen, const char *in, unsigned flags)
{
	hwg_text_escape_n(out, outlen, (const uint8_t *)in, strlen(in), flags);
	return out;
}

size_t
hwg_text_escape_n(char *out, size_t outlen, const uint8_t *in, size_t n, unsigned flags)
{
	static const char hex[] = "0123456789abcdef";
	const uint8_t *p = in;
	size_t o = 0;

	while (n > 0) {
		size_t len = utf8_seq(p, n);
		char esc[4];
		size_t esc_len = 0;

		if (len == 0 ||
		    ((flags & HWG_TEXT_CONTROLS) && len == 1 && (p[0] < 0x20 || p[0] == 0x7f))) {
			esc[0] = '\\';
			esc[1] = 'x';
			esc[2] = hex[p[0] >> 4];
			esc[3] = hex[p[0] & 0xf];
			esc_len = 4;
			len = 1;
		} else if ((flags & HWG_TEXT_QUOTES) && (p[0] == '"' || p[0] == '\\')) {
			esc[0] = '\\';
			esc[1] = (char)p[0];
			esc_len = 2;
		}
		if (o + (esc_len != 0 ? esc_len : len) >= outlen)
			break;
		if (esc_len != 0) {
			memcpy(out + o, esc, esc_len);
			o += esc_len;
		} else {
			memcpy(out + o, p, len);
			o += len;
		}
		p += len;
		n -= len;
	}
	out[o] = '\0';
	return o;
}
