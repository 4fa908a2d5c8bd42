/*
 * hwg_p11.h — the HSM, through any PKCS#11 module loaded with dlopen.
 *
 * The gateway's keys (response signing, audit checkpoints, later the
 * certificate seal and template sealing keys) never leave the token; this
 * module finds them by label and asks the token to sign.  A lost session
 * (token removed and re-inserted, CKR_SESSION_HANDLE_INVALID,
 * CKR_USER_NOT_LOGGED_IN, ...) is re-opened and the operation retried
 * once, so a hiccup in the token is not fatal to the daemon.  The user PIN
 * is read from a file that only the daemon's user may read, held in a
 * locked buffer only while logging in, and wiped.  CKR_* codes stop here:
 * callers see HWG_E_* with a message.  Thread-safe (one internal lock).
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
/* HWG_COSE_ES256 or HWG_COSE_EDDSA. */
int hwg_p11_key_alg(const struct hwg_p11_key *k);
/* The public key (a new reference the caller frees). */
EVP_PKEY *hwg_p11_key_public(const struct hwg_p11_key *k);

/*
 * Sign with k.  For ES256, data must be exactly a 32-byte SHA-256 digest
 * (anything else is HWG_E_INVALID: the token is no general signing
 * oracle); for EdDSA, data is the message.  sig receives 64 raw bytes.
 */
int hwg_p11_sign(struct hwg_p11 *p, struct hwg_p11_key *k, const uint8_t *data, size_t len,
                 uint8_t sig[64], struct hwg_error *err);

struct hwg_p11_token_info {
	char label[33];
	char manufacturer[33];
	char model[17];
	char serial[17];
	int present;                   /* token present in its slot */
	int logged_in;                 /* our session is logged in */
	unsigned long session_reopens; /* times the session was re-opened */
};
/* Current token state (for device.list); re-probes the slot. */
int hwg_p11_token_info(struct hwg_p11 *p, struct hwg_p11_token_info *out, struct hwg_error *err);

/* Tests only: close our session behind the module's back, as a token loss would. */
void hwg_p11_test_drop_session(struct hwg_p11 *p);

#endif
