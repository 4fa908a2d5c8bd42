/*
 * fuzz_certdoc.c — libFuzzer target for the document cert.issue carries
 * (gateway/shared/hwg_certdoc.c), which the registry signs and a station
 * forwards.  The first byte chooses what the rest is:
 *   even: a document's payload, signed here with fuzz_keys.c's Ed25519
 *         key as registry "registry-01", so that mutants pass the
 *         signature and reach the shape, digests and field rules;
 *   odd:  the signed document itself (COSE_Sign1 with a kid), checked
 *         with that key for "registry-01" and no key for any other kid.
 * Nothing may crash, leak or read out of bounds; a document accepted must
 * be for gateway "city-gw-01", have the payload's SHA-256 as its digest,
 * and build back (hwg_certdoc_build) to exactly the payload it came from.
 */
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_keys.h"
#include "hwg_certdoc.h"
#include "hwg_cose.h"

#define GW "city-gw-01"
#define REGISTRY "registry-01"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static EVP_PKEY *ed;

static int
key(void *arg, const char *kid, EVP_PKEY **out, struct hwg_error *err)
{
	(void)arg;
	if (strcmp(kid, REGISTRY) != 0)
		return hwg_error_set(err, HWG_E_DOCUMENT_SIGNATURE, "no registry \"%s\"", kid);
	EVP_PKEY_up_ref(ed);
	*out = ed;
	return 0;
}

/* What an accepted document promises. */
static void
accepted(const struct hwg_certdoc *d, const uint8_t *payload, size_t len)
{
	uint8_t digest[32], *again = NULL;
	size_t again_len = 0;
	struct hwg_error err = {0};

	SHA256(payload, len, digest);
	if (strcmp(d->gateway, GW) != 0 || strcmp(d->registry, REGISTRY) != 0 ||
	    memcmp(d->digest, digest, 32) != 0 || d->n_people == 0)
		abort();
	if (hwg_certdoc_build(d, &again, &again_len, &err) != 0 || again_len != len ||
	    memcmp(again, payload, len) != 0)
		abort();
	free(again);
}

static void
check(const uint8_t *doc, size_t len, const uint8_t *payload, size_t payload_len)
{
	struct hwg_certdoc d;
	struct hwg_cose_sign1 m;
	struct hwg_error err = {0};

	if (hwg_certdoc_check(doc, len, GW, key, NULL, &d, &err) != 0)
		return;
	if (payload == NULL) { /* the document came whole: its payload is inside */
		if (hwg_cose_sign1_decode_kid(doc, len, &m, &err) != 0)
			abort();
		accepted(&d, m.payload, m.payload_len);
		hwg_cose_sign1_clear(&m);
	} else {
		accepted(&d, payload, payload_len);
	}
	hwg_certdoc_clear(&d);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hwg_error err = {0};
	EVP_PKEY *ec = NULL;
	uint8_t *doc = NULL;
	size_t len = 0;

	if (ed == NULL) {
		if (hwg_fuzz_keys(1, &ed, &ec) != 0)
			abort();
		EVP_PKEY_free(ec);
	}
	if (size == 0)
		return 0;
	if (data[0] & 1) {
		check(data + 1, size - 1, NULL, 0);
		return 0;
	}
	if (hwg_certdoc_sign(data + 1, size - 1, REGISTRY, HWG_COSE_EDDSA, hwg_cose_evp_signer, ed,
	                     &doc, &len, &err) != 0)
		return 0;
	check(doc, len, data + 1, size - 1);
	free(doc);
	return 0;
}
