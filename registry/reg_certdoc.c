/*
 * reg_certdoc.c — see reg_certdoc.h.
 */
#include <openssl/sha.h>
#include <stdlib.h>
#include <string.h>

#include "hwg_err.h"
#include "reg_certdoc.h"

#define DIGEST_INPUT_MAX (64 * 1024)

void
reg_certdoc_fields_write(struct reg_cbor *w, const struct reg_fields *f)
{
	const char *keys[REG_FIELDS_MAX];

	memcpy(keys, f->key, f->n * sizeof(keys[0]));
	reg_cbor_sort_keys(keys, f->n);
	reg_cbor_map(w, f->n);
	for (size_t i = 0; i < f->n; i++) {
		size_t j = 0;
		while (j < f->n && strcmp(f->key[j], keys[i]) != 0)
			j++;
		reg_cbor_text(w, keys[i]);
		reg_cbor_text(w, f->val[j]);
	}
}

int
reg_certdoc_version_digest(const char *resident_code, uint64_t record_version,
                           const struct reg_fields *f, uint8_t out[32])
{
	struct reg_cbor w = {hwg_buf_new(DIGEST_INPUT_MAX), 0};

	if (w.b == NULL)
		return HWG_E_NOMEM;
	reg_cbor_array(&w, 4);
	reg_cbor_text(&w, "hwgw-record-v1");
	reg_cbor_text(&w, resident_code);
	reg_cbor_uint(&w, record_version);
	reg_certdoc_fields_write(&w, f);
	if (w.rc == 0)
		SHA256(hwg_buf_ptr(w.b), hwg_buf_len(w.b), out);
	hwg_buf_free(w.b);
	return w.rc;
}

void
reg_certdoc_fields_digest(const uint8_t *people, size_t len, uint8_t out[32])
{
	SHA256(people, len, out);
}
