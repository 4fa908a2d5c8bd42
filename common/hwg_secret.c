/*
 * hwg_secret.c — see hwg_secret.h.
 */
#include "hwg_secret.h"

#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

void
hwg_wipe(void *p, size_t len)
{
	if (p != NULL && len > 0)
		OPENSSL_cleanse(p, len);
}

int
hwg_ct_memcmp(const void *a, const void *b, size_t len)
{
	return CRYPTO_memcmp(a, b, len);
}

struct hwg_secret *
hwg_secret_new(size_t cap)
{
	struct hwg_secret *s = calloc(1, sizeof(*s));

	if (s == NULL)
		return NULL;
	if ((s->data = calloc(1, cap + 1)) == NULL) {
		free(s);
		return NULL;
	}
	(void)mlock(s->data, cap + 1); /* best effort: RLIMIT_MEMLOCK may forbid */
	s->cap = cap;
	return s;
}

void
hwg_secret_free(struct hwg_secret *s)
{
	if (s == NULL)
		return;
	hwg_wipe(s->data, s->cap + 1);
	(void)munlock(s->data, s->cap + 1);
	free(s->data);
	free(s);
}
