/*
 * hwgw_keys.c — client key pairs: generated here, private half written
 * once with mode 0600 and never overwritten, public half given to the
 * gateway's administrator for `hwgwctl client add`.
 */
#include <errno.h>
#include <fcntl.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "hwg_cose.h"
#include "hwgw.h"

int
hwgw_key_generate(int alg, EVP_PKEY **out, struct hwg_error *err)
{
	EVP_PKEY *k = alg == HWG_COSE_EDDSA   ? EVP_PKEY_Q_keygen(NULL, NULL, "ED25519")
		      : alg == HWG_COSE_ES256 ? EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256")
					      : NULL;

	if (k == NULL)
		return hwg_error_set(err, HWG_E_INVALID, "cannot generate a key for algorithm %d",
				     alg);
	*out = k;
	return 0;
}

static int
write_pem(const char *path, int mode, EVP_PKEY *key, int private_key, struct hwg_error *err)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
	FILE *f;
	int ok;

	if (fd < 0)
		return hwg_error_set(err, errno == EEXIST ? HWG_E_EXISTS : HWG_E_IO,
				     "%s: %s (never overwritten)", path, strerror(errno));
	if ((f = fdopen(fd, "w")) == NULL) {
		close(fd);
		unlink(path);
		return hwg_error_set(err, HWG_E_IO, "%s: %s", path, strerror(errno));
	}
	ok = private_key ? PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL)
			 : PEM_write_PUBKEY(f, key);
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

	if ((rc = write_pem(priv_path, 0600, key, 1, err)) != 0)
		return rc;
	if ((rc = write_pem(pub_path, 0644, key, 0, err)) != 0)
		unlink(priv_path);
	return rc;
}

static int
load(const char *path, int private_key, EVP_PKEY **out, struct hwg_error *err)
{
	FILE *f = fopen(path, "re");
	EVP_PKEY *k;

	if (f == NULL)
		return hwg_error_set(err, HWG_E_IO, "%s: %s", path, strerror(errno));
	k = private_key ? PEM_read_PrivateKey(f, NULL, NULL, NULL) : PEM_read_PUBKEY(f, NULL, NULL,
										      NULL);
	fclose(f);
	if (k == NULL)
		return hwg_error_set(err, HWG_E_INVALID, "%s: not a PEM %s key", path,
				     private_key ? "private" : "public");
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
