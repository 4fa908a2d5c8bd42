/*
 * hwg_p11.h — the HSM, through any PKCS#11 module loaded with dlopen.
 *
 * The gateway's keys (response signing, audit checkpoints, the template
 * sealing key, later the certificate seal) never leave the token; this
 * module finds them by label and asks the token to sign, or to seal and
 * open data with AES-256-GCM.  A lost session (token removed and
 * re-inserted, CKR_SESSION_HANDLE_INVALID, CKR_USER_NOT_LOGGED_IN, ...)
 * is re-opened and the operation retried once, so a hiccup in the token
 * is not fatal to the daemon.  The user PIN
 * is read from a file that only the daemon's user may read, held in a
 * locked buffer only while logging in, and wiped.  CKR_* codes stop here:
 * callers see HWG_E_* with a message.  Thread-safe (one internal lock;
 * signatures may also run at once on sessions of their own).
 */
#ifndef HWG_P11_H
#define HWG_P11_H

#include <openssl/evp.h>
#include <stddef.h>
#include <stdint.h>

#include "hwg_err.h"

struct hwg_p11;
struct hwg_p11_key;

struct hwg_p11_config {
	const char *module_path; /* e.g. /usr/lib/softhsm/libsofthsm2.so */
	const char *token_label;
	const char *pin_file; /* refused if group/other may read it */
};

/* Load the module, find the token, open a session and log in. */
int hwg_p11_open(const struct hwg_p11_config *cfg, struct hwg_p11 **out, struct hwg_error *err);
/* Log out, close, finalize and unload; accepts NULL. */
void hwg_p11_close(struct hwg_p11 *p);

/*
 * Find the private key labelled label and its public half (same label).
 * HWG_E_NOT_FOUND if either is missing; HWG_E_HSM if the key is neither
 * EC P-256 nor Ed25519.  The key object belongs to p (freed with it).
 */
int hwg_p11_key_find(struct hwg_p11 *p, const char *label, struct hwg_p11_key **out,
                     struct hwg_error *err);
/* HWG_COSE_ES256 or HWG_COSE_EDDSA; 0 for a secret key. */
int hwg_p11_key_alg(const struct hwg_p11_key *k);
/* The public key (a new reference the caller frees); NULL for a secret key. */
EVP_PKEY *hwg_p11_key_public(const struct hwg_p11_key *k);

/*
 * Sign with k.  For ES256, data must be exactly a 32-byte SHA-256 digest
 * (anything else is HWG_E_INVALID: the token is no general signing
 * oracle); for EdDSA, data is the message.  sig receives 64 raw bytes.
 * A secret key does not sign (HWG_E_INVALID).
 */
int hwg_p11_sign(struct hwg_p11 *p, struct hwg_p11_key *k, const uint8_t *data, size_t len,
                 uint8_t sig[64], struct hwg_error *err);

#define HWG_P11_SIGNERS_MAX 16
/*
 * Sign on n sessions of their own (0 .. HWG_P11_SIGNERS_MAX; set once),
 * so that n threads' hwg_p11_sign run at once; each is opened at its
 * first use and again after a loss.  With 0 (the default) every
 * signature takes the one session, one at a time.
 */
int hwg_p11_set_signers(struct hwg_p11 *p, unsigned n, struct hwg_error *err);

struct hwg_p11_token_info {
	char label[33];
	char manufacturer[33];
	char model[17];
	char serial[17];
	int present;                   /* token present in its slot */
	int logged_in;                 /* our session is logged in */
	unsigned long session_reopens; /* times the session was re-opened */
	unsigned signer_sessions;      /* of hwg_p11_set_signers', those open now */
};
/* Current token state (for device.list); re-probes the slot. */
int hwg_p11_token_info(struct hwg_p11 *p, struct hwg_p11_token_info *out, struct hwg_error *err);

/*
 * Find the AES-256 secret key labelled label (CKO_SECRET_KEY, CKK_AES,
 * CKA_VALUE_LEN 32, CKA_ENCRYPT and CKA_DECRYPT).  HWG_E_NOT_FOUND if no
 * object has the label; HWG_E_HSM, naming the label and the reason, for a
 * key pair under that label, another key type or length, and a key that
 * is extractable, not sensitive or not private: a sealing key must never
 * leave the token, nor be usable without the PIN.  The key object belongs
 * to p; it cannot sign, and a signing key cannot seal.
 */
int hwg_p11_secret_find(struct hwg_p11 *p, const char *label, struct hwg_p11_key **out,
                        struct hwg_error *err);

#define HWG_P11_AEAD_IV 12                                         /* bytes, random per seal */
#define HWG_P11_AEAD_TAG 16                                        /* bytes, 128-bit tag */
#define HWG_P11_AEAD_OVERHEAD (HWG_P11_AEAD_IV + HWG_P11_AEAD_TAG) /* sealed = plain + this */
#define HWG_P11_AEAD_MAX 65536 /* most plaintext or AAD bytes one call takes */

/*
 * Seal pt with k (CKM_AES_GCM in the token, a fresh random 96-bit IV,
 * aad authenticated but not stored): out receives IV ‖ ciphertext ‖ tag,
 * pt_len + HWG_P11_AEAD_OVERHEAD bytes, and *out_len that length.
 * HWG_E_INVALID for a key that is not a secret key, an out_cap too small
 * or an input over HWG_P11_AEAD_MAX.  out and *out_len are written only
 * on success.
 */
int hwg_p11_aead_seal(struct hwg_p11 *p, struct hwg_p11_key *k, const uint8_t *aad, size_t aad_len,
                      const uint8_t *pt, size_t pt_len, uint8_t *out, size_t out_cap,
                      size_t *out_len, struct hwg_error *err);
/*
 * Open what hwg_p11_aead_seal made with the same aad: out receives
 * in_len - HWG_P11_AEAD_OVERHEAD bytes.  HWG_E_TAMPERED when in is too
 * short or its tag does not verify (changed IV, ciphertext, tag or aad,
 * another key); HWG_E_INVALID as for seal.  out and *out_len are written
 * only on success; plaintext the token gave back before failing is wiped.
 */
int hwg_p11_aead_open(struct hwg_p11 *p, struct hwg_p11_key *k, const uint8_t *aad, size_t aad_len,
                      const uint8_t *in, size_t in_len, uint8_t *out, size_t out_cap,
                      size_t *out_len, struct hwg_error *err);

/* Tests only: close our session behind the module's back, as a token loss would. */
void hwg_p11_test_drop_session(struct hwg_p11 *p);

#endif
