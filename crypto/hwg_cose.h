/*
 * hwg_cose.h — COSE_Sign1 (RFC 9052 §4.2) over CBOR payloads.
 *
 * Both sides of the API use this one module: the gateway decodes and
 * verifies requests and encodes responses; libhwgw does the reverse.  The
 * private key never has to be in-process: encoding calls a signer
 * callback, which is an OpenSSL key for clients and the HSM for the
 * gateway.  Only ES256 (ECDSA P-256 + SHA-256, -7) and EdDSA (Ed25519, -8)
 * exist here; signatures are the 64-byte raw forms COSE prescribes.
 */
#ifndef HWG_COSE_H
#define HWG_COSE_H

#include <openssl/evp.h>
#include <stddef.h>
#include <stdint.h>

#include "hwg_err.h"

#define HWG_COSE_ES256 (-7)
#define HWG_COSE_EDDSA (-8)
#define HWG_COSE_SIG_LEN 64
#define HWG_COSE_TAG_SIGN1 18
/* The longest kid (4) accepted or made: a client or gateway id is at most 64 bytes. */
#define HWG_COSE_KID_MAX 64

/* A decoded COSE_Sign1.  All buffers are owned; clear with hwg_cose_sign1_clear. */
struct hwg_cose_sign1 {
	int alg;                  /* protected header label 1 */
	uint8_t *protected_bytes; /* the serialized protected header map */
	size_t protected_len;
	uint8_t *payload; /* attached payload (detached is refused) */
	size_t payload_len;
	uint8_t sig[HWG_COSE_SIG_LEN];
	uint8_t *kid; /* protected kid (4): hwg_cose_sign1_decode_kid only, else NULL */
	size_t kid_len;
};

/*
 * Decode a tagged COSE_Sign1 (tag 18, as api.cddl requires of both
 * requests and responses; an untagged array or any other tag is refused)
 * that fills msg exactly.  Refuses with HWG_E_BAD_ENCODING and a message naming the
 * fault: empty or not CBOR, trailing bytes, not a definite 4-array, the
 * protected header not a bstr holding one map with an integer alg (1)
 * and nothing else (crit (2), other labels and repeated keys refused),
 * the unprotected header not the empty map (api.cddl), a nil (detached)
 * or non-bstr payload, a signature not a 64-byte bstr.  An alg other than
 * ES256/EdDSA is HWG_E_ALG_NOT_ALLOWED.  out is untouched on failure.
 */
int hwg_cose_sign1_decode(const uint8_t *msg, size_t len, struct hwg_cose_sign1 *out,
                          struct hwg_error *err);
/*
 * The same for a message that names its key (a registry's document, a
 * certificate's verification code): the protected header holds alg (1)
 * and kid (4), a byte string of 1 to HWG_COSE_KID_MAX bytes, and nothing
 * else; kid (4) missing, of another type or size, or twice is
 * HWG_E_BAD_ENCODING.  The kid is copied into out->kid.  The kid is
 * signed with the payload, so a verified message cannot be re-labelled.
 */
int hwg_cose_sign1_decode_kid(const uint8_t *msg, size_t len, struct hwg_cose_sign1 *out,
                              struct hwg_error *err);
void hwg_cose_sign1_clear(struct hwg_cose_sign1 *m);

/*
 * Sig_structure ["Signature1", protected, h'', payload], deterministically
 * encoded; *out is malloc'd.  0, HWG_E_NOMEM or HWG_E_INVALID.
 */
int hwg_cose_sig_structure(const uint8_t *prot, size_t prot_len, const uint8_t *payload,
                           size_t payload_len, uint8_t **out, size_t *out_len);

/*
 * Verify m's signature with pub (EVP_PKEY_ED25519 or an EC P-256 key).
 * HWG_E_ALG_NOT_ALLOWED if the key type does not match m->alg;
 * HWG_E_BAD_SIGNATURE if it does not verify.
 */
int hwg_cose_sign1_verify(const struct hwg_cose_sign1 *m, EVP_PKEY *pub, struct hwg_error *err);

/*
 * A signer: produce the 64-byte COSE signature over tbs (the full
 * Sig_structure) with algorithm alg.  ES256 signers hash tbs with SHA-256
 * themselves.
 */
typedef int (*hwg_cose_signer_fn)(void *ctx, int alg, const uint8_t *tbs, size_t tbs_len,
                                  uint8_t sig[HWG_COSE_SIG_LEN], struct hwg_error *err);

/*
 * Encode 18([h'a101<alg>', {}, payload, signature]) deterministically
 * (shortest heads, definite lengths); *out is malloc'd.
 */
int hwg_cose_sign1_encode(int alg, const uint8_t *payload, size_t payload_len,
                          hwg_cose_signer_fn sign, void *sign_ctx, uint8_t **out, size_t *out_len,
                          struct hwg_error *err);

/*
 * The same with kid (4) in the protected header: 18([h'a2 01 <alg> 04
 * <kid>', {}, payload, signature]); kid is 1 to HWG_COSE_KID_MAX bytes
 * (HWG_E_INVALID otherwise).
 */
int hwg_cose_sign1_encode_kid(int alg, const uint8_t *kid, size_t kid_len, const uint8_t *payload,
                              size_t payload_len, hwg_cose_signer_fn sign, void *sign_ctx,
                              uint8_t **out, size_t *out_len, struct hwg_error *err);

/*
 * Signer over an in-process EVP_PKEY (ctx is the EVP_PKEY *): EdDSA as
 * is, ES256 as DER from OpenSSL turned into r||s.  sig untouched on failure.
 */
int hwg_cose_evp_signer(void *ctx, int alg, const uint8_t *tbs, size_t tbs_len,
                        uint8_t sig[HWG_COSE_SIG_LEN], struct hwg_error *err);

/* The COSE alg matching a key (ES256 for P-256, EdDSA for Ed25519), or 0. */
int hwg_cose_alg_for_key(EVP_PKEY *key);
/* "ES256"/"EdDSA" <-> -7/-8; 0 / NULL when unknown. */
int hwg_cose_alg_from_name(const char *name);
const char *hwg_cose_alg_name(int alg);

/*
 * ECDSA P-256: 64-byte r||s <-> DER ECDSA-Sig-Value (for OpenSSL).  Both
 * refuse (HWG_E_BAD_ENCODING) r or s that is zero or not below the group
 * order; der_to_raw also refuses anything but exact DER with no trailing
 * bytes.  *der is freed with OPENSSL_free; raw is untouched on failure.
 */
int hwg_ecdsa_raw_to_der(const uint8_t raw[64], uint8_t **der, size_t *der_len);
int hwg_ecdsa_der_to_raw(const uint8_t *der, size_t der_len, uint8_t raw[64]);

#endif
