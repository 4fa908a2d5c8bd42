/*
 * hwg_file.h — reading a small file whole (certificates, CRLs, keys the
 * configuration names).  One reader, so that every caller refuses the
 * same things the same way: not a regular file, over the caller's limit,
 * short reads.
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

#endif
