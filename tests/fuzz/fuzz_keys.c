/*
 * fuzz_keys.c — see fuzz_keys.h.  The P-256 public point is computed
 * from the fixed scalar with the EC_GROUP/EC_POINT API, then both keys
 * are built with EVP_PKEY_fromdata / raw-key constructors (no EC_KEY).
 */
#include "fuzz_keys.h"

#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/obj_mac.h>
#include <openssl/param_build.h>
#include <stdint.h>

/* Not secret: fixed so that the committed seeds verify. */
static const uint8_t ED25519_SEED[32] = {
    0x68, 0x77, 0x67, 0x77, 0x2d, 0x66, 0x75, 0x7a, 0x7a, 0x2d, 0x65, 0x64, 0x32, 0x35, 0x35, 0x31,
    0x39, 0x2d, 0x74, 0x65, 0x73, 0x74, 0x73, 0x2d, 0x6f, 0x6e, 0x6c, 0x79, 0x2d, 0x30, 0x30, 0x31,
};
static const uint8_t P256_SCALAR[32] = {
    0x68, 0x77, 0x67, 0x77, 0x2d, 0x66, 0x75, 0x7a, 0x7a, 0x2d, 0x70, 0x32, 0x35, 0x36, 0x2d, 0x74,
    0x65, 0x73, 0x74, 0x73, 0x2d, 0x6f, 0x6e, 0x6c, 0x79, 0x2d, 0x30, 0x30, 0x30, 0x30, 0x30, 0x31,
};

static EVP_PKEY *
ed25519_key(int with_private)
{
	EVP_PKEY *priv, *pub;
	uint8_t raw[32];
	size_t len = sizeof(raw);

	priv = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, ED25519_SEED,
	                                    sizeof(ED25519_SEED));
	if (priv == NULL || with_private)
		return priv;
	pub = NULL;
	if (EVP_PKEY_get_raw_public_key(priv, raw, &len) == 1 && len == sizeof(raw))
		pub = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, raw, len);
	EVP_PKEY_free(priv);
	return pub;
}

static EVP_PKEY *
p256_key(int with_private)
{
	EC_GROUP *group = EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1);
	BIGNUM *d = BN_bin2bn(P256_SCALAR, sizeof(P256_SCALAR), NULL);
	EC_POINT *point = NULL;
	OSSL_PARAM_BLD *bld = NULL;
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	EVP_PKEY *key = NULL;
	uint8_t pub[65];

	if (group == NULL || d == NULL || (point = EC_POINT_new(group)) == NULL ||
	    EC_POINT_mul(group, point, d, NULL, NULL, NULL) != 1 ||
	    EC_POINT_point2oct(group, point, POINT_CONVERSION_UNCOMPRESSED, pub, sizeof(pub),
	                       NULL) != sizeof(pub))
		goto out;
	if ((bld = OSSL_PARAM_BLD_new()) == NULL ||
	    OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0) !=
	        1 ||
	    OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, pub, sizeof(pub)) != 1 ||
	    (with_private && OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_PRIV_KEY, d) != 1) ||
	    (params = OSSL_PARAM_BLD_to_param(bld)) == NULL)
		goto out;
	if ((ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL)) == NULL ||
	    EVP_PKEY_fromdata_init(ctx) != 1 ||
	    EVP_PKEY_fromdata(ctx, &key, with_private ? EVP_PKEY_KEYPAIR : EVP_PKEY_PUBLIC_KEY,
	                      params) != 1)
		key = NULL;
out:
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	EC_POINT_free(point);
	BN_clear_free(d);
	EC_GROUP_free(group);
	return key;
}

int
hwg_fuzz_keys(int with_private, EVP_PKEY **ed, EVP_PKEY **ec)
{
	EVP_PKEY *e = ed25519_key(with_private), *p = p256_key(with_private);

	if (e == NULL || p == NULL) {
		EVP_PKEY_free(e);
		EVP_PKEY_free(p);
		return -1;
	}
	*ed = e;
	*ec = p;
	return 0;
}
