/*
 * hwg_secret.h — wiping and constant-time comparison for secrets.
 *
 * PINs, passwords and key material pass through these helpers so that no
 * copy outlives its use and no comparison leaks timing.  Secret buffers
 * are also locked in memory (mlock) where the system allows it.
 */
#ifndef HWG_SECRET_H
#define HWG_SECRET_H

#include <stddef.h>

/* Overwrite len bytes at p with zeros in a way the compiler keeps. */
void hwg_wipe(void *p, size_t len);
/* 0 if equal, non-zero otherwise, in time depending only on len. */
int hwg_ct_memcmp(const void *a, const void *b, size_t len);

/* A locked, wiped-on-free secret (NUL-terminated for convenience). */
struct hwg_secret {
	char *data;
	size_t len;
	size_t cap;
};
/* Allocate a locked buffer able to hold cap bytes; NULL on ENOMEM. */
struct hwg_secret *hwg_secret_new(size_t cap);
/* Wipe, unlock and free; accepts NULL. */
void hwg_secret_free(struct hwg_secret *s);

#endif
