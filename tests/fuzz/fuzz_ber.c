/*
 * fuzz_ber.c — libFuzzer target for the card's BER TLV reader: every byte
 * a card returns passes through it.  hwg_ber_read, hwg_ber_header and
 * hwg_ber_find (over the input as a constructed value, for tags the card
 * files use) must never crash or read out of bounds, and what they accept
 * must keep their promises: a value inside the input, a header that says
 * how long the TLV is.
 */
#include <stdint.h>
#include <stdlib.h>

#include "hwg_ber.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint32_t tags[] = {0xFF10, 0xFF20, 0xFF30, 0xDF21, 0xDF22, 0xDF33, 0x30};
	struct hwg_ber_tlv t;
	struct hwg_error err = {0};

	if (hwg_ber_read(data, size, &t, &err) == 0 &&
	    (t.value != data + t.header_len || t.header_len + t.len > size || t.header_len < 2))
		abort();
	if (hwg_ber_header(data, size, &t, &err) == 0 &&
	    (t.header_len > size || t.header_len > 8)) /* 3 tag bytes, 84 and 4 length bytes */
		abort();
	for (size_t i = 0; i < sizeof(tags) / sizeof(tags[0]); i++)
		if (hwg_ber_find(data, size, tags[i], &t, &err) == 0 &&
		    (t.tag != tags[i] || t.value < data || t.value + t.len > data + size))
			abort();
	return 0;
}
