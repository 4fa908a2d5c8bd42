/*
 * fuzz_keys.h — the fixed Ed25519 and P-256 keys that fuzz_envelope
 * verifies with and make_seeds signs the seed corpus with, so that seeds
 * and their mutants reach the signature check with keys that match.
 * They are made at run time from fixed private bytes in fuzz_keys.c: no
 * key file is committed, and these keys are public knowledge (tests only).
 */
#ifndef HWG_FUZZ_KEYS_H
#define HWG_FUZZ_KEYS_H

#include <openssl/evp.h>

/*
 * Make the two keys: public only (with_private 0) or key pairs.  0, or -1
 * with *ed and *ec left NULL.  Free each with EVP_PKEY_free.
 */
int hwg_fuzz_keys(int with_private, EVP_PKEY **ed, EVP_PKEY **ec);

#endif
