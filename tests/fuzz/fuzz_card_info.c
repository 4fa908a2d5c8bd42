/*
 * fuzz_card_info.c — libFuzzer target for the input-support files as a
 * card returns them: EF 0001 (the My Number), EF 0002 (the four facts)
 * and EF 0003 (the integrity record).  The input is cut in three at the
 * lengths its first two bytes give; each piece goes to its parser and all
 * three to the integrity check with a fixed issuer key.  Nothing may
 * crash, and accepted text must be what the parsers promise (digits,
 * NUL-terminated UTF-8 of the stated sizes).
 */
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hwg_idnum.h"
#include "hwg_mn_info.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static EVP_PKEY *
issuer_key(void)
{
	static EVP_PKEY *key;

	if (key == NULL && (key = EVP_RSA_gen(2048)) == NULL)
		abort();
	return key;
}

static void
check_facts(const uint8_t *p, size_t n)
{
	struct hwg_mn_facts f;
	struct hwg_error err = {0};

	if (hwg_mn_parse_facts(p, n, &f, &err) != 0)
		return;
	if (memchr(f.name, 0, sizeof(f.name)) == NULL ||
	    memchr(f.address, 0, sizeof(f.address)) == NULL || strlen(f.birth) != 8 ||
	    strlen(f.sex) != 1)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hwg_error err = {0};
	char number[13];
	size_t n1, n2;

	if (size < 2)
		return 0;
	n1 = data[0] % 32;
	n2 = data[1];
	data += 2;
	size -= 2;
	if (n1 > size)
		n1 = size;
	if (n2 > size - n1)
		n2 = size - n1;
	if (hwg_mn_parse_mynumber(data, n1, number, &err) == 0 &&
	    (strlen(number) != 12 || !hwg_mynumber_valid(number)))
		abort();
	check_facts(data + n1, n2);
	(void)hwg_mn_check_integrity(data, n1, data + n1, n2, data + n1 + n2, size - n1 - n2,
	                             issuer_key(), &err);
	return 0;
}
