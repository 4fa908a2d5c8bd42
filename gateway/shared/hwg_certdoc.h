/*
 * hwg_certdoc.h — the document cert.issue carries: what a certificate
 * will show, built and signed by the resident registry, and everything
 * the gateway checks before a byte of it reaches the renderer
 * (/work/cert-plan.md's "The document" is the contract).  Pure: the
 * registry's public key comes through a lookup callback
 * (hwg_certdoc_registry_key looks it up in the client registry), so the
 * checks can run, be tested and be fuzzed alone.
 *
 * The document is a tagged COSE_Sign1 (ES256 or EdDSA) whose protected
 * header names the registry's client id as kid (4), over a payload in
 * deterministic CBOR:
 *
 *   { "v": 1, "kind": "juminhyo" / "kisai" / "tenshutsu" / "inkan",
 *     "gateway": tstr, "subject": tstr (11 digits), "household": bool,
 *     "people": [+ person], "my_number": bool,
 *     "requester": { "name": tstr, "relation": "self" / "household" /
 *                    "proxy", ? "letter": tstr },
 *     "fields_digest": bstr .size 32, "built": uint }
 *   person = { "resident_code": tstr (11 digits), "record_version": uint,
 *              "version_digest": bstr .size 32, "fields": { + tstr => tstr } }
 *
 *   version_digest = SHA-256(CBOR ["hwgw-record-v1", resident_code,
 *                                  record_version, fields])
 *   fields_digest  = SHA-256(CBOR of "people")
 *
 * both in deterministic CBOR.  The document's digest, which the journal
 * and the verification code carry, is SHA-256 of the payload's bytes.
 *
 * hwg_certdoc_check refuses in this order, each with its own code and a
 * message naming the field and the person (by position, from 1) but
 * never a field's value: personal data goes into no error and no log.
 *   1. HWG_E_DOCUMENT_SIGNATURE  not a COSE_Sign1 with a kid, the kid no
 *      registered client of role registry, or the signature not its;
 *   2. HWG_E_DOCUMENT_INVALID    "v" not 1, an unknown kind, built for
 *      another gateway, or any other fault of shape: a key missing, one
 *      unknown, a value of the wrong type, not deterministic CBOR, a
 *      resident code not 11 digits, a resident twice, the subject not
 *      among the people, a single-person copy (or an inkan) of more than
 *      one person, a letter of attorney without a proxy;
 *   3. HWG_E_DOCUMENT_MISMATCH   the fields' digest is not the one signed;
 *   4. HWG_E_DOCUMENT_MISMATCH   a person's fields are not those of the
 *      record version named (its version digest differs);
 *   5. HWG_E_DOCUMENT_INVALID    a field its kind does not allow, a
 *      required one missing, or a value breaking its format;
 *   6. HWG_E_DOCUMENT_INVALID    a my_number field present without
 *      "my_number": true, or missing with it;
 *   7. HWG_E_MY_NUMBER_NOT_ALLOWED  "my_number": true for a proxy, or on
 *      a tenshutsu or an inkan;
 *   8. HWG_E_DOCUMENT_INVALID    a proxy without "letter".
 *
 * Fields (values UTF-8; 外字 are private-use code points U+E000-U+F8FF):
 * name (at most 64 bytes), kana (katakana, spaces U+3000 and U+0020),
 * birth (date), sex (男 or 女), relation, address, head, resident_since
 * (date), address_since (date), notified (date), previous_address,
 * moving_to, moving_date (date), seal_no (digits), my_number (12 digits,
 * check digit).  Dates are YYYY-MM-DD.  Every value is 1 to 200 bytes
 * without control characters (C0, DEL, C1, line and paragraph separators,
 * bidirectional controls).  Required on every person: juminhyo name kana
 * birth sex relation address head resident_since address_since; kisai
 * name address; tenshutsu name kana birth sex relation address head
 * moving_to moving_date; inkan (one person) name birth address seal_no.
 * Allowed besides: notified, previous_address, my_number.
 */
#ifndef HWG_CERTDOC_H
#define HWG_CERTDOC_H

#include <openssl/evp.h>
#include <stddef.h>
#include <stdint.h>

#include "hwg_cose.h"
#include "hwg_err.h"

#define HWG_CERTDOC_DIGEST_LEN 32
#define HWG_CERTDOC_CODE_LEN 11        /* a resident code's digits */
#define HWG_CERTDOC_PEOPLE_MAX 64      /* people on one certificate */
#define HWG_CERTDOC_FIELDS_MAX 32      /* fields of one person */
#define HWG_CERTDOC_FIELD_NAME_MAX 32  /* bytes of a field's name */
#define HWG_CERTDOC_VALUE_MAX 200      /* bytes of a field's value, and of "letter" */
#define HWG_CERTDOC_NAME_MAX 64        /* bytes of a name: the field and the requester's */
#define HWG_CERTDOC_GATEWAY_MAX 64     /* bytes of a gateway id */
#define HWG_CERTDOC_REGISTRY_MAX 64    /* bytes of the registry's client id */
#define HWG_CERTDOC_MAX (256u * 1024u) /* bytes of a signed document */

enum hwg_certdoc_kind {
	HWG_CERTDOC_JUMINHYO = 0, /* 住民票の写し */
	HWG_CERTDOC_KISAI,        /* 住民票記載事項証明書 */
	HWG_CERTDOC_TENSHUTSU,    /* 転出証明書 */
	HWG_CERTDOC_INKAN,        /* 印鑑登録証明書 */
	HWG_CERTDOC_KIND_COUNT_
};

enum hwg_certdoc_relation {
	HWG_CERTDOC_SELF = 0,  /* 本人 */
	HWG_CERTDOC_HOUSEHOLD, /* the same household */
	HWG_CERTDOC_PROXY,     /* 代理人, with a letter of attorney */
	HWG_CERTDOC_RELATION_COUNT_
};

/* Names on the wire ("juminhyo", "proxy"); "unknown" outside the enums.  Parse: -1 if unknown. */
const char *hwg_certdoc_kind_name(int kind);
int hwg_certdoc_kind_parse(const char *name);
const char *hwg_certdoc_relation_name(int relation);
int hwg_certdoc_relation_parse(const char *name);

/* One field as the page shows it: "name" => "山田　太郎". */
struct hwg_certdoc_field {
	const char *name;
	const char *value;
};

struct hwg_certdoc_person {
	char resident_code[HWG_CERTDOC_CODE_LEN + 1];
	uint64_t record_version;
	uint8_t version_digest[HWG_CERTDOC_DIGEST_LEN];
	const struct hwg_certdoc_field *fields; /* decoded: in the document's (key) order */
	size_t n_fields;
};

struct hwg_certdoc {
	int kind; /* enum hwg_certdoc_kind */
	char gateway[HWG_CERTDOC_GATEWAY_MAX + 1];
	char subject[HWG_CERTDOC_CODE_LEN + 1];
	int household;
	const struct hwg_certdoc_person *people; /* in page order */
	size_t n_people;
	int my_number;
	char requester_name[HWG_CERTDOC_NAME_MAX + 1];
	int relation;                           /* enum hwg_certdoc_relation */
	char letter[HWG_CERTDOC_VALUE_MAX + 1]; /* "": none */
	uint8_t fields_digest[HWG_CERTDOC_DIGEST_LEN];
	uint64_t built; /* unix seconds */
	/* set by hwg_certdoc_check */
	char registry[HWG_CERTDOC_REGISTRY_MAX + 1]; /* the signer's client id (kid) */
	uint8_t digest[HWG_CERTDOC_DIGEST_LEN];      /* SHA-256 of the payload */
	void *owned_;                                /* what hwg_certdoc_clear frees */
};

/* ---------------------------------------------------------------- building (the registry) */

/*
 * SHA-256 of the deterministic CBOR ["hwgw-record-v1", resident_code,
 * record_version, {fields}]: what a record version's digest is over the
 * fields a page shows of it.  HWG_E_INVALID for a NULL name or value or
 * a name given twice, HWG_E_NOMEM.
 */
int hwg_certdoc_version_digest(const char *resident_code, uint64_t record_version,
                               const struct hwg_certdoc_field *fields, size_t n_fields,
                               uint8_t out[HWG_CERTDOC_DIGEST_LEN]);
/* SHA-256 of the deterministic CBOR of the people array (each person's digest as given). */
int hwg_certdoc_fields_digest(const struct hwg_certdoc_person *people, size_t n_people,
                              uint8_t out[HWG_CERTDOC_DIGEST_LEN]);
/*
 * The payload of doc, in deterministic CBOR, exactly as given: the
 * digests are taken from doc (compute them with the two functions
 * above), registry and digest are not used, and nothing is checked but
 * that it can be encoded (a kind and a relation of the enums, no NULL
 * string, no field name twice: HWG_E_INVALID; over HWG_CERTDOC_MAX:
 * HWG_E_TOO_LARGE).  "letter" is written when not "".  *payload malloc'd.
 */
int hwg_certdoc_build(const struct hwg_certdoc *doc, uint8_t **payload, size_t *len,
                      struct hwg_error *err);
/*
 * The document: payload signed with alg (ES256 or EdDSA) by sign, kid =
 * registry_id (a client id).  *out malloc'd.
 */
int hwg_certdoc_sign(const uint8_t *payload, size_t len, const char *registry_id, int alg,
                     hwg_cose_signer_fn sign, void *sign_ctx, uint8_t **out, size_t *out_len,
                     struct hwg_error *err);

/* ---------------------------------------------------------------- checking (the gateway) */

/*
 * The public key of the registry named kid (a valid client id): 0 with
 * *key (the caller frees it), or HWG_E_DOCUMENT_SIGNATURE when kid is no
 * registry.
 */
typedef int (*hwg_certdoc_key_fn)(void *arg, const char *kid, EVP_PKEY **key,
                                  struct hwg_error *err);
/*
 * A hwg_certdoc_key_fn over the gateway's client registry (arg: struct
 * hwg_clients *, gateway/shared/hwg_clients.h): the client named kid,
 * whose role must be registry.
 */
int hwg_certdoc_registry_key(void *clients, const char *kid, EVP_PKEY **key, struct hwg_error *err);
/*
 * Check doc (the signed document) for gateway_id, in the order above; 0
 * with out filled (release it with hwg_certdoc_clear), or the refusal's
 * code with out empty.
 */
int hwg_certdoc_check(const uint8_t *doc, size_t len, const char *gateway_id,
                      hwg_certdoc_key_fn key, void *key_arg, struct hwg_certdoc *out,
                      struct hwg_error *err);
/* Wipe and free what hwg_certdoc_check filled in; accepts NULL and an empty document. */
void hwg_certdoc_clear(struct hwg_certdoc *doc);

#endif
