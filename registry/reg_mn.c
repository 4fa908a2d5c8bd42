/*
 * reg_mn.c — see reg_mn.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "hwg_file.h"
#include "reg_hsm.h"
#include "hwg_secret.h"
#include "reg_mn.h"

#define IV_LEN 12
#define TAG_LEN 16
#define MN_LEN 12

static void
to_hex(const uint8_t *p, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++)
		snprintf(out + 2 * i, 3, "%02x", p[i]);
}

static int
from_hex(const char *s, uint8_t *out, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned v;
		if (sscanf(s + 2 * i, "%2x", &v) != 1)
			return -1;
		out[i] = (uint8_t)v;
	}
	return s[2 * n] == '\0' || s[2 * n] == '\n' ? 0 : -1;
}

static int
derive(const uint8_t master[32], const char *label, uint8_t out[32])
{
	unsigned len = 32;

	return HMAC(EVP_sha256(), master, 32, (const uint8_t *)label, strlen(label), out, &len) ==
	               NULL
	           ? -1
	           : 0;
}

/* The two keys from the master key. */
static int
derive_both(const uint8_t master[32], struct reg_mn_key *k, struct hwg_error *err)
{
	if (derive(master, "hwgw-mn-enc-v1", k->enc) || derive(master, "hwgw-mn-hash-v1", k->mac))
		return hwg_error_set(err, HWG_E_INTERNAL, "My Number key: derivation failed");
	return 0;
}

/* 32 raw bytes, or 64 hex digits and a newline, from a 0600 file. */
static int
read_master(const char *path, uint8_t master[32], struct hwg_error *err)
{
	uint8_t raw[80];
	size_t len = 0;
	int rc;

	if ((rc = hwg_file_read_secret(path, raw, sizeof(raw) - 1, &len, err)) != 0)
		return rc;
	raw[len] = '\0';
	if (len == 32)
		memcpy(master, raw, 32);
	else if ((len != 64 && !(len == 65 && raw[64] == '\n')) ||
	         from_hex((char *)raw, master, 32))
		rc = hwg_error_set(err, HWG_E_CONFIG,
		                   "%s: My Number key: not 32 bytes or 64 hex digits", path);
	hwg_wipe(raw, sizeof(raw));
	return rc;
}

int
reg_mn_key_load(const char *path, struct reg_mn_key *k, struct hwg_error *err)
{
	uint8_t master[32];
	int rc;

	if ((rc = read_master(path, master, err)) == 0)
		rc = derive_both(master, k, err);
	hwg_wipe(master, sizeof(master));
	return rc;
}

/* ------------------------------------------------ sealed in an HSM */

static const char sealed_aad[] = "hwgw-mn-key-v1";

/* A session on hsm's token and its secret key hsm->label (*p freed by the caller). */
static int
hsm_secret(const struct reg_p11_key *hsm, struct hwg_p11 **p, struct hwg_p11_key **key,
           struct hwg_error *err)
{
	int rc;

	if ((rc = reg_hsm_open(hsm, "My Number key in an HSM", p, err)) == 0)
		rc = hwg_p11_secret_find(*p, hsm->label, key, err);
	return rc;
}

int
reg_mn_key_unseal(const char *path, const struct reg_p11_key *hsm, struct reg_mn_key *k,
                  struct hwg_error *err)
{
	uint8_t sealed[REG_MN_SEALED_KEY_LEN + 1], master[32];
	struct hwg_p11_key *key = NULL;
	struct hwg_p11 *p = NULL;
	size_t len = 0, n = 0;
	int rc;

	if ((rc = hwg_file_read_secret(path, sealed, sizeof(sealed), &len, err)) != 0)
		return rc;
	if (len != REG_MN_SEALED_KEY_LEN)
		return hwg_error_set(err, HWG_E_CONFIG,
		                     "%s: not a sealed My Number key (%zu bytes, not %d)", path,
		                     len, REG_MN_SEALED_KEY_LEN);
	if ((rc = hsm_secret(hsm, &p, &key, err)) == 0 &&
	    (rc = hwg_p11_aead_open(p, key, (const uint8_t *)sealed_aad, strlen(sealed_aad), sealed,
	                            len, master, sizeof(master), &n, err)) == 0)
		rc = n == sizeof(master)
		         ? derive_both(master, k, err)
		         : hwg_error_set(err, HWG_E_TAMPERED, "%s: wrong length", path);
	hwg_wipe(master, sizeof(master));
	hwg_p11_close(p);
	return rc;
}

int
reg_mn_key_seal(const char *key_path, const struct reg_p11_key *hsm, const char *out_path,
                struct hwg_error *err)
{
	uint8_t master[32], sealed[REG_MN_SEALED_KEY_LEN];
	struct hwg_p11_key *key = NULL;
	struct hwg_p11 *p = NULL;
	size_t n = 0;
	int rc, fd;

	if ((rc = read_master(key_path, master, err)) == 0 &&
	    (rc = hsm_secret(hsm, &p, &key, err)) == 0)
		rc = hwg_p11_aead_seal(p, key, (const uint8_t *)sealed_aad, strlen(sealed_aad),
		                       master, sizeof(master), sealed, sizeof(sealed), &n, err);
	hwg_wipe(master, sizeof(master));
	hwg_p11_close(p);
	if (rc != 0)
		return rc;
	if ((fd = open(out_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600)) < 0)
		return hwg_error_set(err, HWG_E_IO, "%s: %s", out_path, strerror(errno));
	if (write(fd, sealed, n) != (ssize_t)n || fsync(fd) != 0) {
		rc = hwg_error_set(err, HWG_E_IO, "%s: %s", out_path, strerror(errno));
		unlink(out_path);
	}
	close(fd);
	return rc;
}

void
reg_mn_key_wipe(struct reg_mn_key *k)
{
	hwg_wipe(k, sizeof(*k));
}

static int
gcm(int enc, const struct reg_mn_key *k, const char *code, const uint8_t iv[IV_LEN],
    const uint8_t *in, uint8_t *out, uint8_t tag[TAG_LEN])
{
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	int ok, n = 0, fin = 0;

	ok = c != NULL && EVP_CipherInit_ex(c, EVP_aes_256_gcm(), NULL, k->enc, iv, enc) == 1 &&
	     EVP_CipherUpdate(c, NULL, &n, (const uint8_t *)code, (int)strlen(code)) == 1 &&
	     EVP_CipherUpdate(c, out, &n, in, MN_LEN) == 1 &&
	     (enc || EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, TAG_LEN, tag) == 1) &&
	     EVP_CipherFinal_ex(c, out + n, &fin) == 1 &&
	     (!enc || EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, TAG_LEN, tag) == 1);
	EVP_CIPHER_CTX_free(c);
	return ok ? 0 : -1;
}

int
reg_mn_seal(const struct reg_mn_key *k, const char *code, const char *mn,
            char out[REG_MN_SEALED_HEX + 1], struct hwg_error *err)
{
	uint8_t blob[IV_LEN + MN_LEN + TAG_LEN];

	if (strlen(mn) != MN_LEN)
		return hwg_error_set(err, HWG_E_INVALID, "My Number: not 12 digits");
	if (RAND_bytes(blob, IV_LEN) != 1 ||
	    gcm(1, k, code, blob, (const uint8_t *)mn, blob + IV_LEN, blob + IV_LEN + MN_LEN))
		return hwg_error_set(err, HWG_E_INTERNAL, "My Number: sealing failed");
	to_hex(blob, sizeof(blob), out);
	return 0;
}

int
reg_mn_open(const struct reg_mn_key *k, const char *code, const char *sealed, char mn[13],
            struct hwg_error *err)
{
	uint8_t blob[IV_LEN + MN_LEN + TAG_LEN], plain[MN_LEN];

	if (sealed == NULL || strlen(sealed) != REG_MN_SEALED_HEX ||
	    from_hex(sealed, blob, sizeof(blob)) != 0)
		return hwg_error_set(err, HWG_E_TAMPERED, "record %s: sealed My Number malformed",
		                     code);
	if (gcm(0, k, code, blob, blob + IV_LEN, plain, blob + IV_LEN + MN_LEN) != 0) {
		hwg_wipe(plain, sizeof(plain));
		return hwg_error_set(err, HWG_E_TAMPERED,
		                     "record %s: sealed My Number does not open with this key",
		                     code);
	}
	memcpy(mn, plain, MN_LEN);
	mn[MN_LEN] = '\0';
	hwg_wipe(plain, sizeof(plain));
	return 0;
}

int
reg_mn_hash(const struct reg_mn_key *k, const char *mn, char out[REG_MN_HASH_HEX + 1])
{
	uint8_t mac[32];
	unsigned len = sizeof(mac);

	if (HMAC(EVP_sha256(), k->mac, sizeof(k->mac), (const uint8_t *)mn, strlen(mn), mac,
	         &len) == NULL)
		return -1;
	to_hex(mac, sizeof(mac), out);
	return 0;
}
