/*
 * testfiles.h — files in a unit test's own temporary directory: one copy
 * of the helpers test_file.c, test_p11.c and test_keyholder.c each kept
 * for themselves.  write_file makes a file of a given mode (the secret
 * file and PIN file rules), read_pem reads a public key that
 * scripts/hsm-init wrote.  Header only; the directory is the caller's.
 */
#ifndef TESTFILES_H
#define TESTFILES_H

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

/* in_dir/name holding len bytes of text, with mode; the path (static). */
static inline const char *
write_file(const char *in_dir, const char *name, const char *text, size_t len, mode_t mode)
{
	static char path[300];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", in_dir, name);
	unlink(path);
	if ((f = fopen(path, "w")) != NULL) {
		fwrite(text, 1, len, f);
		fclose(f);
	}
	chmod(path, mode);
	return path;
}

/* The PEM public key in_dir/name, or NULL. */
static inline EVP_PKEY *
read_pem(const char *in_dir, const char *name)
{
	char path[400];
	EVP_PKEY *pk;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", in_dir, name);
	if ((f = fopen(path, "r")) == NULL)
		return NULL;
	pk = PEM_read_PUBKEY(f, NULL, NULL, NULL);
	fclose(f);
	return pk;
}

#endif
