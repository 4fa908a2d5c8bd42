/*
 * reg_mn.h — the My Number at rest: sealed with AES-256-GCM (a fresh
 * 96-bit IV each time, the resident code as associated data, so a sealed
 * number copied onto another record does not open) and found by an
 * HMAC-SHA-256 keyed hash, never by its plaintext.  Both keys come from
 * one master key through HMAC with distinct labels: a key file (0600,
 * ours), or that key sealed by an HSM's AES-256 key so that a copy of the
 * file alone opens nothing.
 */
#ifndef REG_MN_H
#define REG_MN_H

#include <stdint.h>

#include "hwg_err.h"

#define REG_MN_SEALED_HEX (2 * (12 + 12 + 16)) /* iv, ciphertext, tag */
#define REG_MN_HASH_HEX 64

struct reg_mn_key {
	uint8_t enc[32];
	uint8_t mac[32];
};

/* 32 raw bytes, or 64 hex digits (a newline after them allowed). */
int reg_mn_key_load(const char *path, struct reg_mn_key *k, struct hwg_error *err);
void reg_mn_key_wipe(struct reg_mn_key *k);

/*
 * The master key sealed in an HSM: the file (0600, ours) holds IV ‖
 * ciphertext ‖ tag of AES-256-GCM by the token's secret key hsm->label,
 * REG_MN_SEALED_KEY_LEN bytes exactly.  HWG_E_TAMPERED when it does not
 * open (another key, altered); HWG_E_NOT_FOUND without that key.
 */
#define REG_MN_SEALED_KEY_LEN (12 + 32 + 16)
struct reg_p11_key;
int reg_mn_key_unseal(const char *path, const struct reg_p11_key *hsm, struct reg_mn_key *k,
                      struct hwg_error *err);
/* Seal the key file key_path's master key into out_path (made 0600; never overwritten). */
int reg_mn_key_seal(const char *key_path, const struct reg_p11_key *hsm, const char *out_path,
                    struct hwg_error *err);
int reg_mn_seal(const struct reg_mn_key *k, const char *code, const char *mn,
                char out[REG_MN_SEALED_HEX + 1], struct hwg_error *err);
/* HWG_E_TAMPERED if it does not open (another key, another record, altered). */
int reg_mn_open(const struct reg_mn_key *k, const char *code, const char *sealed, char mn[13],
                struct hwg_error *err);
int reg_mn_hash(const struct reg_mn_key *k, const char *mn, char out[REG_MN_HASH_HEX + 1]);

#endif
