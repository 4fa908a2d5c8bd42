/*
 * hwg_file.h — reading a small file whole (certificates, CRLs, keys the
 * configuration names), and reading a secret file (a key, a PIN, a
 * session token).  One reader of each kind, so that every caller refuses
 * the same things the same way: not a regular file, over the caller's
 * limit, short reads; and for secrets, a file someone else owns or may
 * read.
 */
#ifndef HWG_FILE_H
#define HWG_FILE_H

#include <stddef.h>
#include <stdint.h>

#include "hwg_err.h"

/*
 * Read path into *out (malloc'd, the caller frees it; one spare byte so a
 * caller may NUL-terminate), *len its size.  HWG_E_IO naming the file
 * and the reason; an empty file is an error too.
 */
int hwg_file_read(const char *path, size_t max, uint8_t **out, size_t *len, struct hwg_error *err);

/*
 * Read the secret in path into buf (max bytes), *len its size (0 for an
 * empty file: the caller judges what the file holds).  The file must be a
 * regular file (a symbolic link is not followed, a FIFO not waited on),
 * owned by the effective uid, with no group or other permission bits
 * (0600 or stricter).  The caller wipes buf after use (hwg_wipe, or the
 * data of a struct hwg_secret).  On failure *len is 0 and buf holds
 * nothing of the file: left untouched, or zero where bytes had been read.
 * Messages begin with the path and name what was found (the mode, the
 * owner); callers may prefix what the file is for.  Codes:
 * HWG_E_NOT_FOUND the file does not exist, HWG_E_TOO_LARGE it holds more
 * than max bytes, HWG_E_IO anything else.
 */
int hwg_file_read_secret(const char *path, void *buf, size_t max, size_t *len,
                         struct hwg_error *err);

#endif
