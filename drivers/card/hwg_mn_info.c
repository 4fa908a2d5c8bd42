/*
 * hwg_mn_info.c — parsing and integrity checking of the input-support
 * application's files (see hwg_mn_info.h, firmware-notes/mynumber-card.md).
 */
#include "hwg_mn_info.h"

#include <openssl/crypto.h>
#include <openssl/sha.h>
#include <string.h>

#include "hwg_ber.h"
#include "hwg_idnum.h"
#include "hwg_secret.h"

#define TAG_MYNUMBER 0xFF10
#define TAG_FACTS 0xFF20
#define TAG_OFFSETS 0xDF21
#define TAG_NAME 0xDF22
#define TAG_ADDRESS 0xDF23
#define TAG_BIRTH 0xDF24
#define TAG_SEX 0xDF25
#define TAG_INTEGRITY 0xFF30
#define TAG_HASH_MYNUMBER 0xDF31
#define TAG_HASH_FACTS 0xDF32
#define TAG_SIGNATURE 0xDF33

static int
all_digits(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] < '0' || p[i] > '9')
			return 0;
	return 1;
}

/* Strict UTF-8: no overlongs, surrogates, or code points past U+10FFFF, no C0 controls. */
static int
utf8_valid(const uint8_t *p, size_t n)
{
	size_t i = 0;

	while (i < n) {
		uint32_t cp;
		size_t k;

		if (p[i] < 0x20 || p[i] == 0x7F)
			return 0;
		if (p[i] < 0x80) {
			i++;
			continue;
		}
		if ((p[i] & 0xE0) == 0xC0)
			k = 1, cp = p[i] & 0x1F;
		else if ((p[i] & 0xF0) == 0xE0)
			k = 2, cp = p[i] & 0x0F;
		else if ((p[i] & 0xF8) == 0xF0)
			k = 3, cp = p[i] & 0x07;
		else
			return 0;
		if (n - i <= k)
			return 0; /* truncated sequence */
		for (size_t j = 1; j <= k; j++) {
			if ((p[i + j] & 0xC0) != 0x80)
				return 0;
			cp = cp << 6 | (p[i + j] & 0x3F);
		}
		if ((k == 1 && cp < 0x80) || (k == 2 && cp < 0x800) || (k == 3 && cp < 0x10000) ||
		    cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
			return 0;
		i += k + 1;
	}
	return 1;
}

int
hwg_mn_parse_mynumber(const uint8_t *ef, size_t len, char out[13], struct hwg_error *err)
{
	struct hwg_ber_tlv t;
	int rc;

	if ((rc = hwg_ber_read(ef, len, &t, err)) != 0)
		return rc;
	if (t.tag != TAG_MYNUMBER || t.len != 12 || !all_digits(t.value, 12))
		return hwg_error_set(err, HWG_E_INVALID,
		                     "card-info file 0001 does not hold a 12-digit number");
	memcpy(out, t.value, 12);
	out[12] = '\0';
	if (!hwg_mynumber_valid(out)) {
		hwg_wipe(out, 13);
		return hwg_error_set(err, HWG_E_INVALID,
		                     "the My Number on the card fails its check digit");
	}
	return 0;
}

static int
copy_text(const struct hwg_ber_tlv *t, char *out, size_t cap, const char *what,
          struct hwg_error *err)
{
	if (t->len == 0 || t->len >= cap || !utf8_valid(t->value, t->len))
		return hwg_error_set(err, HWG_E_INVALID, "card %s is empty, too long or not UTF-8",
		                     what);
	memcpy(out, t->value, t->len);
	out[t->len] = '\0';
	return 0;
}

static int
parse_fact(const uint8_t *v, size_t len, uint32_t tag, struct hwg_ber_tlv *t, const char *what,
           struct hwg_error *err)
{
	int rc = hwg_ber_find(v, len, tag, t, err);

	if (rc == HWG_E_NOT_FOUND)
		return hwg_error_set(err, HWG_E_INVALID, "card-info file 0002 has no %s", what);
	return rc;
}

int
hwg_mn_parse_facts(const uint8_t *ef, size_t len, struct hwg_mn_facts *out, struct hwg_error *err)
{
	struct hwg_ber_tlv outer, t;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = hwg_ber_read(ef, len, &outer, err)) != 0)
		return rc;
	if (outer.tag != TAG_FACTS)
		return hwg_error_set(err, HWG_E_INVALID, "card-info file 0002 has tag %X",
		                     (unsigned)outer.tag);
	if ((rc = parse_fact(outer.value, outer.len, TAG_NAME, &t, "name", err)) != 0 ||
	    (rc = copy_text(&t, out->name, sizeof(out->name), "name", err)) != 0)
		return rc;
	if ((rc = parse_fact(outer.value, outer.len, TAG_ADDRESS, &t, "address", err)) != 0 ||
	    (rc = copy_text(&t, out->address, sizeof(out->address), "address", err)) != 0)
		return rc;
	if ((rc = parse_fact(outer.value, outer.len, TAG_BIRTH, &t, "birth date", err)) != 0)
		return rc;
	if (t.len != 8 || !all_digits(t.value, 8))
		return hwg_error_set(err, HWG_E_INVALID, "card birth date is not YYYYMMDD");
	memcpy(out->birth, t.value, 8);
	if ((rc = parse_fact(outer.value, outer.len, TAG_SEX, &t, "sex", err)) != 0)
		return rc;
	if (t.len != 1 || (t.value[0] != '1' && t.value[0] != '2' && t.value[0] != '9'))
		return hwg_error_set(err, HWG_E_INVALID, "card sex is not 1, 2 or 9 (ISO 5218)");
	out->sex[0] = (char)t.value[0];
	return 0;
}

/* SHA-256 of the FF 20 value's children except DF 21 (the offsets). */
static int
hash_facts(const uint8_t *ef2, size_t len2, uint8_t md[SHA256_DIGEST_LENGTH], struct hwg_error *err)
{
	struct hwg_ber_tlv outer, t;
	EVP_MD_CTX *sha;
	size_t off = 0;
	int rc = 0, ok;

	if ((rc = hwg_ber_read(ef2, len2, &outer, err)) != 0)
		return rc;
	if ((sha = EVP_MD_CTX_new()) == NULL)
		return hwg_error_set(err, HWG_E_NOMEM, "out of memory");
	ok = EVP_DigestInit_ex(sha, EVP_sha256(), NULL);
	while (ok && rc == 0 && off < outer.len) {
		if ((rc = hwg_ber_read(outer.value + off, outer.len - off, &t, err)) != 0)
			break;
		if (t.tag != TAG_OFFSETS)
			ok = EVP_DigestUpdate(sha, outer.value + off, t.header_len + t.len);
		off += t.header_len + t.len;
	}
	if (rc == 0 && (!ok || !EVP_DigestFinal_ex(sha, md, NULL)))
		rc = hwg_error_set(err, HWG_E_INTERNAL, "SHA-256 failed");
	EVP_MD_CTX_free(sha);
	return rc;
}

static int
verify_issuer(EVP_PKEY *issuer, const uint8_t *h1, const uint8_t *h2, const struct hwg_ber_tlv *sig,
              struct hwg_error *err)
{
	uint8_t tbs[2 * SHA256_DIGEST_LENGTH];
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	int ok;

	memcpy(tbs, h1, SHA256_DIGEST_LENGTH);
	memcpy(tbs + SHA256_DIGEST_LENGTH, h2, SHA256_DIGEST_LENGTH);
	ok = md != NULL && EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, issuer) == 1 &&
	     EVP_DigestVerify(md, sig->value, sig->len, tbs, sizeof(tbs)) == 1;
	EVP_MD_CTX_free(md);
	if (!ok)
		return hwg_error_set(err, HWG_E_TAMPERED,
		                     "the integrity record's issuer signature does not verify");
	return 0;
}

int
hwg_mn_check_integrity(const uint8_t *ef1, size_t len1, const uint8_t *ef2, size_t len2,
                       const uint8_t *ef3, size_t len3, EVP_PKEY *issuer, struct hwg_error *err)
{
	uint8_t h1[SHA256_DIGEST_LENGTH], h2[SHA256_DIGEST_LENGTH];
	struct hwg_ber_tlv rec, d31, d32, d33;
	int rc;

	if ((rc = hwg_ber_read(ef3, len3, &rec, err)) != 0)
		return rc;
	if (rec.tag != TAG_INTEGRITY)
		return hwg_error_set(err, HWG_E_INVALID, "card-info file 0003 has tag %X",
		                     (unsigned)rec.tag);
	if ((rc = hwg_ber_find(rec.value, rec.len, TAG_HASH_MYNUMBER, &d31, err)) != 0 ||
	    (rc = hwg_ber_find(rec.value, rec.len, TAG_HASH_FACTS, &d32, err)) != 0 ||
	    (rc = hwg_ber_find(rec.value, rec.len, TAG_SIGNATURE, &d33, err)) != 0)
		return hwg_error_set(err, HWG_E_INVALID, "card integrity record incomplete: %s",
		                     err->message);
	if (d31.len != sizeof(h1) || d32.len != sizeof(h2))
		return hwg_error_set(err, HWG_E_INVALID, "card integrity hashes are not SHA-256");
	SHA256(ef1, len1, h1);
	if (CRYPTO_memcmp(h1, d31.value, sizeof(h1)) != 0)
		return hwg_error_set(err, HWG_E_TAMPERED,
		                     "the My Number file does not match its integrity hash");
	if ((rc = hash_facts(ef2, len2, h2, err)) != 0)
		return rc;
	if (CRYPTO_memcmp(h2, d32.value, sizeof(h2)) != 0)
		return hwg_error_set(
		    err, HWG_E_TAMPERED,
		    "the name, address, birth date or sex on the card does not match "
		    "its integrity hash");
	return verify_issuer(issuer, d31.value, d32.value, &d33, err);
}
