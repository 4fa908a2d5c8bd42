/*
 * hwg_mn_info.h — the card-info input-support application's files, parsed.
 *
 * EF 0001 holds the My Number, EF 0002 the four basic facts (name,
 * address, birth date, sex) and EF 0003 the issuer's integrity record over
 * both.  These functions take the bytes as read from a card, treat them as
 * hostile (each has a libFuzzer target), and never touch the card: the
 * APDUs are in hwg_mynumber.c.
 */
#ifndef HWG_MN_INFO_H
#define HWG_MN_INFO_H

#include <openssl/evp.h>
#include <stddef.h>
#include <stdint.h>

#include "hwg_err.h"

#define HWG_MN_EF_MYNUMBER_LEN 17 /* FF 10 0C + 12 digits + FF FF filler */

struct hwg_mn_facts {
	char name[256];    /* UTF-8, family and given names separated by U+3000 */
	char address[512]; /* UTF-8 */
	char birth[9];     /* YYYYMMDD */
	char sex[2];       /* ISO 5218: "1", "2" or "9" */
};

/*
 * EF 0001 (17 bytes incl. filler) → 12 ASCII digits and a NUL; the check
 * digit must hold (hwg_mynumber_valid, common/hwg_idnum.h).
 */
int hwg_mn_parse_mynumber(const uint8_t *ef, size_t len, char out[13], struct hwg_error *err);

/* EF 0002 (the FF 20 TLV) → the four facts, each checked for form. */
int hwg_mn_parse_facts(const uint8_t *ef, size_t len, struct hwg_mn_facts *out,
                       struct hwg_error *err);

/*
 * Check EF 0003 against EF 0001 (all 17 bytes) and EF 0002 (the FF 20
 * TLV): both hashes, then the issuer's RSA signature over them.
 * HWG_E_TAMPERED naming what does not match; HWG_E_INVALID if EF 0003 is
 * malformed.
 */
int hwg_mn_check_integrity(const uint8_t *ef1, size_t len1, const uint8_t *ef2, size_t len2,
                           const uint8_t *ef3, size_t len3, EVP_PKEY *issuer,
                           struct hwg_error *err);

#endif
