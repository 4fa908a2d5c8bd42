/*
 * hwgw_keys.c — client key pairs: generated here, private half written
 * once as PKCS#8 PEM with mode 0600 and never overwritten, public half
 * (SubjectPublicKeyInfo PEM, 0644) given to the gateway's administrator
 * for `hwgwctl client add`.  Only Ed25519 and P-256 keys are accepted,
 * the two algorithms of gateway/api.cddl.
 */
#include <errno.h>
#include <fcntl.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hwg_cose.h"
#include "hwgw.h"

/* The installed header cannot include hwg_cose.h: its constants must stay the same. */
_Static_assert(HWGW_ALG_ES256 == HWG_COSE_ES256, "HWGW_ALG_ES256 is COSE ES256");
_Static_assert(HWGW_ALG_EDDSA == HWG_COSE_EDDSA, "HWGW_ALG_EDDSA is COSE EdDSA");

int
hwgw_key_generate(int alg, EVP_PKEY **out, struct hwg_error *err)
{
	EVP_PKEY *k;

	if (alg == HWG_COSE_EDDSA)
		k = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	else if (alg == HWG_COSE_ES256)
		k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	else
		return hwg_error_set(err, HWG_E_INVALID,
		                     "no key type for algorithm %d (ES256 -7 or EdDSA -8)", alg);
	if (k == NULL)
		return hwg_error_set(err, HWG_E_INTERNAL, "key generation failed for %s",
		                     hwg_cose_alg_name(alg));
	*out = k;
	return 0;
}

/* Write one PEM file that must not exist yet; on any failure nothing is left behind. */
static int
write_pem(const char *path, mode_t mode, EVP_PKEY *key, int private_key, struct hwg_error *err)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode);
	FILE *f;
	int ok, e;

	if (fd < 0)
		return hwg_error_set(err, errno == EEXIST ? HWG_E_EXISTS : HWG_E_IO,
		                     "%s: %s (key files are never overwritten)", path,
		                     strerror(errno));
	/* exactly this mode, whatever the umask */
	if (fchmod(fd, mode) != 0 || (f = fdopen(fd, "w")) == NULL) {
		e = errno;
		close(fd);
		unlink(path);
		return hwg_error_set(err, HWG_E_IO, "%s: %s", path, strerror(e));
	}
	ok = private_key ? PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL)
	                 : PEM_write_PUBKEY(f, key);
	ok = ok && fflush(f) == 0 && fsync(fileno(f)) == 0;
	if (fclose(f) != 0 || !ok) {
		unlink(path);
		return hwg_error_set(err, HWG_E_IO, "cannot write %s", path);
	}
	return 0;
}

int
hwgw_key_save(EVP_PKEY *key, const char *priv_path, const char *pub_path, struct hwg_error *err)
{
	int rc;

	if (key == NULL || priv_path == NULL || pub_path == NULL)
		return hwg_error_set(err, HWG_E_INVALID, "a key and two paths are needed");
	if (hwg_cose_alg_for_key(key) == 0)
		return hwg_error_set(err, HWG_E_INVALID, "key is neither Ed25519 nor P-256");
	if ((rc = write_pem(priv_path, 0600, key, 1, err)) != 0)
		return rc;
	if ((rc = write_pem(pub_path, 0644, key, 0, err)) != 0)
		unlink(priv_path);
	return rc;
}

/* Never ask for a passphrase: the library has no terminal to ask on. */
static int
no_passphrase(char *buf, int size, int rwflag, void *u)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	(void)u;
	return -1;
}

static int
load(const char *path, int private_key, EVP_PKEY **out, struct hwg_error *err)
{
	FILE *f;
	EVP_PKEY *k;

	if (path == NULL)
		return hwg_error_set(err, HWG_E_INVALID, "no key file named");
	if ((f = fopen(path, "re")) == NULL)
		return hwg_error_set(err, errno == ENOENT ? HWG_E_NOT_FOUND : HWG_E_IO, "%s: %s",
		                     path, strerror(errno));
	k = private_key ? PEM_read_PrivateKey(f, NULL, no_passphrase, NULL)
	                : PEM_read_PUBKEY(f, NULL, no_passphrase, NULL);
	fclose(f);
	if (k == NULL)
		return hwg_error_set(err, HWG_E_INVALID, "%s: not a PEM %s key%s", path,
		                     private_key ? "private" : "public",
		                     private_key ? " (or one protected by a passphrase)" : "");
	if (hwg_cose_alg_for_key(k) == 0) {
		EVP_PKEY_free(k);
		return hwg_error_set(err, HWG_E_INVALID, "%s: key is neither Ed25519 nor P-256",
		                     path);
	}
	*out = k;
	return 0;
}

int
hwgw_key_load_private(const char *path, EVP_PKEY **out, struct hwg_error *err)
{
	return load(path, 1, out, err);
}

int
hwgw_key_load_public(const char *path, EVP_PKEY **out, struct hwg_error *err)
{
	return load(path, 0, out, err);
}
