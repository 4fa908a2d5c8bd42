/*
 * hwg_templates.h — palm-vein templates sealed for storage.
 *
 * An enrolled operator's template is stored only sealed: AES-256-GCM in
 * the HSM under the template key (hwg_p11_secret_find, label
 * hwgw-template by default), so the store alone never yields a palm.  The
 * operator id is authenticated with it, so a sealed template moved to
 * another operator's row (a template swap in the store) does not open.
 *
 * Blob (HWG_TEMPLATE_BLOB_LEN bytes):
 *   "PVS1" (magic "PVS" and format version "1") ‖ IV (12) ‖
 *   ciphertext (HWG_MATCH_DIM) ‖ tag (16)
 * AAD: "hwgw-template-v1" ‖ 0x00 ‖ operator id ‖ "PVS1".
 * A new format gets a new version byte and a new domain string; this
 * code opens version 1 only.
 */
#ifndef HWG_TEMPLATES_H
#define HWG_TEMPLATES_H

#include <stddef.h>
#include <stdint.h>

#include "hwg_err.h"
#include "hwg_match.h"
#include "hwg_p11.h"

#define HWG_TEMPLATE_MAGIC "PVS1"
#define HWG_TEMPLATE_MAGIC_LEN 4
#define HWG_TEMPLATE_BLOB_LEN (HWG_TEMPLATE_MAGIC_LEN + HWG_P11_AEAD_OVERHEAD + HWG_MATCH_DIM)

/*
 * Seal tmpl for operator_id (1 to HWG_MATCH_ID_MAX bytes, else
 * HWG_E_INVALID) with the secret key k.  *blob is malloc'd, *blob_len
 * bytes (HWG_TEMPLATE_BLOB_LEN); the caller frees it.  Both are written
 * only on success.  HSM failures are HWG_E_HSM.
 */
int hwg_template_seal(struct hwg_p11 *p, struct hwg_p11_key *k, const char *operator_id,
                      const int8_t tmpl[HWG_MATCH_DIM], uint8_t **blob, size_t *blob_len,
                      struct hwg_error *err);

/*
 * Open a blob sealed for operator_id into tmpl.  HWG_E_TEMPLATE_TAMPERED
 * when the blob has the wrong length, magic or version, or does not open
 * for this operator id (changed, sealed for another operator, or under
 * another key); the message says which without quoting the blob.  tmpl is
 * written only on success.  HSM failures are HWG_E_HSM.
 */
int hwg_template_open(struct hwg_p11 *p, struct hwg_p11_key *k, const char *operator_id,
                      const uint8_t *blob, size_t blob_len, int8_t tmpl[HWG_MATCH_DIM],
                      struct hwg_error *err);

#endif
