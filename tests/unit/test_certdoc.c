/*
 * test_certdoc.c — gateway/shared/hwg_certdoc: a document built as the
 * registry builds it, signed with a software key and checked through the
 * real client registry (hwg_certdoc_registry_key); every refusal of the
 * check with a document that reaches it and fails, beside one that
 * passes it (the same document but for the fault), in the plan's order,
 * each with its code and a message naming the field and the person; no
 * message ever holds a field's value; what a checked document gives
 * (kinds, people in order, fields, requester, digest, built); the
 * builder's and the digests' refusals and the record digest's bytes.
 */
#include <cbor.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <openssl/x509.h>
#include <stdlib.h>
#include <string.h>

#include "hwg_cbor.h"
#include "hwg_cbor_det.h"
#include "hwg_certdoc.h"
#include "hwg_clients.h"
#include "hwg_cose.h"
#include "hwg_roles.h"
#include "hwg_test.h"

#define GW "city-gw-01"
#define REGISTRY "registry-01"

static EVP_PKEY *reg_key, *counter_key, *stranger_key;
static struct hwg_clients *clients;

/* The personal data the documents hold: no message may quote any of it. */
static const char *const personal[] = {"山田",   "ヤマダ",      "1985-04-01",  "1987-02-28",
                                       "東京都", "10000000001", "10000000002", "537686677188",
                                       "委任状", "鈴木",        "札幌",        "9876"};

/* ---------------------------------------------------------------- the client registry */

struct reg_client {
	const char *id;
	int role;
	EVP_PKEY **key;
};

static int
walk(void *src, int (*fn)(void *ctx, const struct hwg_client_rec *c), void *ctx,
     struct hwg_error *err)
{
	static const struct reg_client all[] = {{REGISTRY, HWG_ROLE_REGISTRY, &reg_key},
	                                        {"counter-01", HWG_ROLE_COUNTER, &counter_key}};

	(void)src;
	(void)err;
	for (size_t i = 0; i < 2; i++) {
		struct hwg_client_rec c = {.role = all[i].role};
		unsigned char *der = NULL;
		int n = i2d_PUBKEY(*all[i].key, &der), rc;

		snprintf(c.id, sizeof(c.id), "%s", all[i].id);
		c.pubkey_der = der;
		c.pubkey_len = n > 0 ? (size_t)n : 0;
		rc = fn(ctx, &c);
		OPENSSL_free(der);
		if (rc != 0)
			return rc;
	}
	return 0;
}

/* ---------------------------------------------------------------- a document */

#define MAX_FIELDS 20

struct fixture {
	struct hwg_certdoc doc;
	struct hwg_certdoc_person people[3];
	struct hwg_certdoc_field f[3][MAX_FIELDS];
};

static void
set(struct fixture *x, size_t person, const char *name, const char *value)
{
	struct hwg_certdoc_person *p = &x->people[person];

	for (size_t j = 0; j < p->n_fields; j++)
		if (strcmp(x->f[person][j].name, name) == 0) {
			x->f[person][j].value = value;
			return;
		}
	x->f[person][p->n_fields].name = name;
	x->f[person][p->n_fields].value = value;
	p->n_fields++;
}

static void
drop(struct fixture *x, size_t person, const char *name)
{
	struct hwg_certdoc_person *p = &x->people[person];

	for (size_t j = 0; j < p->n_fields; j++)
		if (strcmp(x->f[person][j].name, name) == 0) {
			memmove(&x->f[person][j], &x->f[person][j + 1],
			        (p->n_fields - j - 1) * sizeof(x->f[person][0]));
			p->n_fields--;
			return;
		}
}

/* Each person's version digest and the fields' digest, as the registry computes them. */
static void
reseal(struct fixture *x)
{
	for (size_t i = 0; i < x->doc.n_people; i++)
		if (hwg_certdoc_version_digest(x->people[i].resident_code,
		                               x->people[i].record_version, x->people[i].fields,
		                               x->people[i].n_fields,
		                               x->people[i].version_digest) != 0)
			abort();
	if (hwg_certdoc_fields_digest(x->people, x->doc.n_people, x->doc.fields_digest) != 0)
		abort();
}

static void
person(struct fixture *x, size_t i, const char *code, uint64_t version)
{
	snprintf(x->people[i].resident_code, sizeof(x->people[i].resident_code), "%s", code);
	x->people[i].record_version = version;
	x->people[i].fields = x->f[i];
	x->people[i].n_fields = 0;
}

/* A household's 住民票の写し of two, asked for by the head in person. */
static void
base(struct fixture *x)
{
	memset(x, 0, sizeof(*x));
	x->doc.kind = HWG_CERTDOC_JUMINHYO;
	snprintf(x->doc.gateway, sizeof(x->doc.gateway), GW);
	snprintf(x->doc.subject, sizeof(x->doc.subject), "10000000001");
	x->doc.household = 1;
	x->doc.people = x->people;
	x->doc.n_people = 2;
	snprintf(x->doc.requester_name, sizeof(x->doc.requester_name), "山田　太郎");
	x->doc.relation = HWG_CERTDOC_SELF;
	x->doc.built = 1775000000;
	person(x, 0, "10000000001", 7);
	set(x, 0, "name", "山田　太郎");
	set(x, 0, "kana", "ヤマダ　タロウ");
	set(x, 0, "birth", "1985-04-01");
	set(x, 0, "sex", "男");
	set(x, 0, "relation", "世帯主");
	set(x, 0, "address", "東京都千代田区霞が関一丁目1番1号");
	set(x, 0, "head", "山田　太郎");
	set(x, 0, "resident_since", "1985-04-01");
	set(x, 0, "address_since", "2010-10-10");
	person(x, 1, "10000000002", 3);
	set(x, 1, "name", "山\xee\x80\x80田　花子"); /* a 外字 (U+E000) in the family name */
	set(x, 1, "kana", "ヤマダ　ハナコ");
	set(x, 1, "birth", "1987-02-28");
	set(x, 1, "sex", "女");
	set(x, 1, "relation", "妻");
	set(x, 1, "address", "東京都千代田区霞が関一丁目1番1号");
	set(x, 1, "head", "山田　太郎");
	set(x, 1, "resident_since", "2012-05-01");
	set(x, 1, "address_since", "2012-05-01");
	set(x, 1, "notified", "2012-05-07");
	reseal(x);
}

/* One person's certificate of kind (the subject alone), with the fields it requires. */
static void
single(struct fixture *x, int kind)
{
	base(x);
	x->doc.kind = kind;
	x->doc.household = 0;
	x->doc.n_people = 1;
	if (kind == HWG_CERTDOC_KISAI) {
		x->people[0].n_fields = 0;
		set(x, 0, "name", "山田　太郎");
		set(x, 0, "address", "東京都千代田区霞が関一丁目1番1号");
	} else if (kind == HWG_CERTDOC_TENSHUTSU) {
		drop(x, 0, "resident_since");
		drop(x, 0, "address_since");
		set(x, 0, "moving_to", "北海道札幌市中央区北1条西2丁目");
		set(x, 0, "moving_date", "2026-05-01");
	} else if (kind == HWG_CERTDOC_INKAN) {
		x->people[0].n_fields = 0;
		set(x, 0, "name", "山田　太郎");
		set(x, 0, "birth", "1985-04-01");
		set(x, 0, "address", "東京都千代田区霞が関一丁目1番1号");
		set(x, 0, "seal_no", "9876");
	}
	reseal(x);
}

static uint8_t *
sign_payload(const uint8_t *payload, size_t len, const char *kid, EVP_PKEY *key, size_t *out_len)
{
	struct hwg_error err = {0};
	uint8_t *out = NULL;

	if (hwg_certdoc_sign(payload, len, kid, hwg_cose_alg_for_key(key), hwg_cose_evp_signer, key,
	                     &out, out_len, &err) != 0) {
		fprintf(stderr, "  sign: %s\n", err.message);
		abort();
	}
	return out;
}

static uint8_t *
payload_of(const struct fixture *x, size_t *len)
{
	struct hwg_error err = {0};
	uint8_t *p = NULL;

	if (hwg_certdoc_build(&x->doc, &p, len, &err) != 0) {
		fprintf(stderr, "  build: %s\n", err.message);
		abort();
	}
	return p;
}

static int
check(const uint8_t *doc, size_t len, struct hwg_certdoc *out, struct hwg_error *err)
{
	return hwg_certdoc_check(doc, len, GW, hwg_certdoc_registry_key, clients, out, err);
}

/* 1 if msg quotes none of the personal data. */
static int
no_values(const char *msg)
{
	for (size_t i = 0; i < sizeof(personal) / sizeof(personal[0]); i++)
		if (strstr(msg, personal[i]) != NULL) {
			fprintf(stderr, "  the message quotes \"%s\": %s\n", personal[i], msg);
			return 0;
		}
	return 1;
}

/* Check the signed document: code and, when refused, a message containing text. */
static int
outcome(int line, const uint8_t *doc, size_t len, int code, const char *text)
{
	struct hwg_certdoc out;
	struct hwg_error err = {0};
	int rc = check(doc, len, &out, &err);

	if (rc == 0)
		hwg_certdoc_clear(&out);
	else if (out.n_people != 0 || out.people != NULL || out.owned_ != NULL)
		fprintf(stderr, "  line %d: out not empty on a refusal\n", line), rc = 1;
	if (rc != code || (text != NULL && strstr(err.message, text) == NULL) ||
	    !no_values(err.message)) {
		fprintf(stderr, "  line %d: rc %d \"%s\", expected %d \"%s\"\n", line, rc,
		        err.message, code, text ? text : "");
		return 0;
	}
	return 1;
}

static int
fixture_outcome(int line, const struct fixture *x, int code, const char *text)
{
	size_t plen, len;
	uint8_t *p = payload_of(x, &plen), *doc = sign_payload(p, plen, REGISTRY, reg_key, &len);
	int ok = outcome(line, doc, len, code, text);

	free(p);
	free(doc);
	return ok;
}
#define PASSES(x) CHECK(fixture_outcome(__LINE__, x, 0, NULL))
#define REFUSED(x, code, text) CHECK(fixture_outcome(__LINE__, x, code, text))

/* ---------------------------------------------------------------- CBOR-level changes */

/* A copy of map m with key set to v (NULL: removed); takes v's reference. */
static cbor_item_t *
map_with(const cbor_item_t *m, const char *key, cbor_item_t *v)
{
	size_t n = cbor_map_size(m);
	struct cbor_pair *pairs = cbor_map_handle(m);
	cbor_item_t *out = cbor_new_definite_map(n + 1);
	int found = 0;

	for (size_t i = 0; i < n; i++) {
		if (hwg_cbor_text_eq(pairs[i].key, key)) {
			found = 1;
			if (v != NULL)
				cbor_map_add(out, (struct cbor_pair){pairs[i].key, v});
			continue;
		}
		cbor_map_add(out, pairs[i]);
	}
	if (!found && v != NULL) {
		cbor_item_t *k = cbor_build_string(key);

		cbor_map_add(out, (struct cbor_pair){k, v});
		cbor_decref(&k);
	}
	if (v != NULL)
		cbor_decref(&v);
	return out;
}

static cbor_item_t *
get(const cbor_item_t *m, const char *key)
{
	int dup = 0;

	return hwg_cbor_map_get(m, key, &dup);
}

enum { DET = 0, AS_IS = 1 };

/* Sign item (deterministically encoded, or as libcbor serializes it) as the registry. */
static int
item_outcome(int line, cbor_item_t *item, int how, int code, const char *text)
{
	uint8_t *p = NULL, *doc;
	size_t plen = 0, cap = 0, len;
	int ok;

	if (how == DET)
		ok = hwg_cbor_det_encode(item, HWG_CERTDOC_MAX, &p, &plen) == 0;
	else
		ok = (plen = cbor_serialize_alloc(item, &p, &cap)) > 0;
	cbor_decref(&item);
	if (!ok) {
		fprintf(stderr, "  line %d: cannot encode\n", line);
		return 0;
	}
	doc = sign_payload(p, plen, REGISTRY, reg_key, &len);
	ok = outcome(line, doc, len, code, text);
	free(p);
	free(doc);
	return ok;
}
#define ITEM_REFUSED(item, text)                                                                   \
	CHECK(item_outcome(__LINE__, item, DET, HWG_E_DOCUMENT_INVALID, text))

/* The base document as a CBOR item. */
static cbor_item_t *
root(void)
{
	struct fixture x;
	size_t len;
	uint8_t *p;
	cbor_item_t *it;

	base(&x);
	p = payload_of(&x, &len);
	it = hwg_cbor_load(p, len, NULL);
	free(p);
	return it;
}

/* The base document with key set at the top. */
static cbor_item_t *
top_with(const char *key, cbor_item_t *v)
{
	cbor_item_t *r = root(), *out = map_with(r, key, v);

	cbor_decref(&r);
	return out;
}

/* The base document with key set in the requester. */
static cbor_item_t *
requester_with(const char *key, cbor_item_t *v)
{
	cbor_item_t *r = root(), *q = map_with(get(r, "requester"), key, v),
	            *out = map_with(r, "requester", q);

	cbor_decref(&r);
	return out;
}

/* The base document with key set in person 2 (index 1). */
static cbor_item_t *
person2_with(const char *key, cbor_item_t *v)
{
	cbor_item_t *r = root(), *people = get(r, "people");
	cbor_item_t *p = map_with(cbor_array_handle(people)[1], key, v), *out;

	cbor_array_replace(people, 1, p);
	cbor_decref(&p);
	out = map_with(r, "people", cbor_incref(people));
	cbor_decref(&r);
	return out;
}

/* ---------------------------------------------------------------- tests */

static void
test_accepted_and_what_it_gives(void)
{
	struct fixture x;
	struct hwg_certdoc out;
	struct hwg_error err = {0};
	uint8_t *p, *doc, digest[32];
	size_t plen, len;

	base(&x);
	snprintf(x.doc.letter, sizeof(x.doc.letter), "委任状第12号");
	x.doc.relation = HWG_CERTDOC_PROXY;
	p = payload_of(&x, &plen);
	doc = sign_payload(p, plen, REGISTRY, reg_key, &len);
	REQUIRE(check(doc, len, &out, &err) == 0);
	SHA256(p, plen, digest);
	CHECK(memcmp(out.digest, digest, 32) == 0);
	CHECK_EQ_STR(out.registry, REGISTRY);
	CHECK_EQ_INT(out.kind, HWG_CERTDOC_JUMINHYO);
	CHECK_EQ_STR(out.gateway, GW);
	CHECK_EQ_STR(out.subject, "10000000001");
	CHECK(out.household && !out.my_number);
	CHECK_EQ_STR(out.requester_name, "山田　太郎");
	CHECK_EQ_INT(out.relation, HWG_CERTDOC_PROXY);
	CHECK_EQ_STR(out.letter, "委任状第12号");
	CHECK_EQ_INT(out.built, 1775000000);
	CHECK(memcmp(out.fields_digest, x.doc.fields_digest, 32) == 0);
	REQUIRE(out.n_people == 2);
	CHECK_EQ_STR(out.people[0].resident_code, "10000000001"); /* page order kept */
	CHECK_EQ_STR(out.people[1].resident_code, "10000000002");
	CHECK_EQ_INT(out.people[1].record_version, 3);
	CHECK_EQ_INT(out.people[1].n_fields, 10);
	/* fields in the document's order: deterministic, so "sex" (3 bytes) first */
	CHECK_EQ_STR(out.people[1].fields[0].name, "sex");
	CHECK_EQ_STR(out.people[1].fields[0].value, "女");
	for (size_t j = 0; j < out.people[1].n_fields; j++)
		if (strcmp(out.people[1].fields[j].name, "name") == 0)
			CHECK_EQ_STR(out.people[1].fields[j].value, "山\xee\x80\x80田　花子");
	hwg_certdoc_clear(&out);
	CHECK(out.people == NULL && out.owned_ == NULL);
	hwg_certdoc_clear(&out); /* twice, and NULL */
	hwg_certdoc_clear(NULL);
	free(p);
	free(doc);
}

static void
test_each_kind_accepted(void)
{
	struct fixture x;

	for (int k = 0; k < HWG_CERTDOC_KIND_COUNT_; k++) {
		single(&x, k);
		PASSES(&x);
	}
	CHECK_EQ_INT(hwg_certdoc_kind_parse("tenshutsu"), HWG_CERTDOC_TENSHUTSU);
	CHECK_EQ_INT(hwg_certdoc_kind_parse("passport"), -1);
	CHECK_EQ_STR(hwg_certdoc_kind_name(HWG_CERTDOC_KIND_COUNT_), "unknown");
	CHECK_EQ_INT(hwg_certdoc_relation_parse("household"), HWG_CERTDOC_HOUSEHOLD);
	CHECK_EQ_STR(hwg_certdoc_relation_name(-1), "unknown");
}

/* 1. The signature. */
static void
test_signature_refusals(void)
{
	struct fixture x;
	struct hwg_error err = {0};
	uint8_t *p, *doc;
	size_t plen, len;

	base(&x);
	p = payload_of(&x, &plen);
	doc = sign_payload(p, plen, REGISTRY, reg_key, &len);
	CHECK(outcome(__LINE__, doc, len, 0, NULL));
	/* a payload changed after signing */
	doc[len - 70] ^= 0x01;
	CHECK(outcome(__LINE__, doc, len, HWG_E_DOCUMENT_SIGNATURE, "not signed by registry"));
	free(doc);
	/* another key under the registry's name */
	doc = sign_payload(p, plen, REGISTRY, stranger_key, &len);
	CHECK(outcome(__LINE__, doc, len, HWG_E_DOCUMENT_SIGNATURE, "not signed by registry"));
	free(doc);
	/* a client that is no registry, with its own key */
	doc = sign_payload(p, plen, "counter-01", counter_key, &len);
	CHECK(outcome(__LINE__, doc, len, HWG_E_DOCUMENT_SIGNATURE, "is not a registry"));
	free(doc);
	doc = sign_payload(p, plen, "registry-99", reg_key, &len);
	CHECK(outcome(__LINE__, doc, len, HWG_E_DOCUMENT_SIGNATURE, "no registered client"));
	free(doc);
	/* no kid: the request envelope's form */
	REQUIRE(hwg_cose_sign1_encode(HWG_COSE_EDDSA, p, plen, hwg_cose_evp_signer, reg_key, &doc,
	                              &len, &err) == 0);
	CHECK(outcome(__LINE__, doc, len, HWG_E_DOCUMENT_SIGNATURE, "no kid (4)"));
	free(doc);
	/* a kid that is no client id */
	REQUIRE(hwg_cose_sign1_encode_kid(HWG_COSE_EDDSA, (const uint8_t *)"a b", 3, p, plen,
	                                  hwg_cose_evp_signer, reg_key, &doc, &len, &err) == 0);
	CHECK(outcome(__LINE__, doc, len, HWG_E_DOCUMENT_SIGNATURE, "not a client id"));
	free(doc);
	CHECK(outcome(__LINE__, (const uint8_t *)"\xa0", 1, HWG_E_DOCUMENT_SIGNATURE,
	              "not a signed COSE_Sign1"));
	CHECK(outcome(__LINE__, p, plen, HWG_E_DOCUMENT_SIGNATURE, "not a signed COSE_Sign1"));
	free(p);
}

/* 2. The shape: v, kind, gateway first. */
static void
test_head_refusals(void)
{
	struct fixture x;

	CHECK(item_outcome(__LINE__, root(), DET, 0, NULL)); /* the items' control */
	ITEM_REFUSED(top_with("v", cbor_build_uint8(2)), "version \"v\" is not 1");
	ITEM_REFUSED(top_with("v", NULL), "version \"v\" is not 1");
	ITEM_REFUSED(top_with("kind", cbor_build_string("passport")), "\"kind\" is not");
	ITEM_REFUSED(top_with("kind", NULL), "\"kind\" is not");
	base(&x);
	snprintf(x.doc.gateway, sizeof(x.doc.gateway), "town-gw-02");
	REFUSED(&x, HWG_E_DOCUMENT_INVALID, "built for another gateway (\"town-gw-02\")");
	ITEM_REFUSED(top_with("gateway", cbor_build_uint8(1)), "\"gateway\" is not a gateway id");
	ITEM_REFUSED(cbor_build_string("a document"), "the document is not a map");
	/* the version is judged before an unknown kind, and the kind before the gateway */
	{
		cbor_item_t *r = top_with("v", cbor_build_uint8(3));
		cbor_item_t *both = map_with(r, "kind", cbor_build_string("passport"));

		cbor_decref(&r);
		ITEM_REFUSED(both, "version");
	}
}

static void
test_shape_refusals(void)
{
	struct fixture x;
	uint8_t short_digest[31] = {0};

	ITEM_REFUSED(top_with("extra", cbor_build_bool(true)), "unknown (\"extra\")");
	ITEM_REFUSED(top_with("built", NULL), "the document has no \"built\"");
	ITEM_REFUSED(top_with("requester", NULL), "the document has no \"requester\"");
	{ /* "v" moved to the end: the same map, not in deterministic order */
		cbor_item_t *r = top_with("v", NULL);

		CHECK(item_outcome(__LINE__, map_with(r, "v", cbor_build_uint8(1)), AS_IS,
		                   HWG_E_DOCUMENT_INVALID, "not in deterministic CBOR encoding"));
		cbor_decref(&r);
		r = top_with("v", NULL); /* the control: the same, encoded deterministically */
		CHECK(item_outcome(__LINE__, map_with(r, "v", cbor_build_uint8(1)), DET, 0, NULL));
		cbor_decref(&r);
	}
	ITEM_REFUSED(top_with("subject", cbor_build_string("1000000001")), "\"subject\"");
	ITEM_REFUSED(top_with("subject", cbor_build_string("1000000000a")), "\"subject\"");
	ITEM_REFUSED(top_with("household", cbor_build_uint8(1)), "\"household\"");
	ITEM_REFUSED(top_with("my_number", cbor_build_string("no")), "\"my_number\"");
	ITEM_REFUSED(top_with("fields_digest", cbor_build_bytestring(short_digest, 31)),
	             "\"fields_digest\" is not 32 bytes");
	ITEM_REFUSED(top_with("built", cbor_build_negint8(0)), "\"built\" is not a uint");
	ITEM_REFUSED(top_with("people", cbor_new_definite_array(0)), "\"people\" is not an array");
	ITEM_REFUSED(top_with("people", cbor_build_string("x")), "\"people\" is not an array");
	/* the requester */
	ITEM_REFUSED(requester_with("name", NULL), "\"requester\" has no \"name\"");
	ITEM_REFUSED(requester_with("name", cbor_build_string("")), "requester's \"name\"");
	ITEM_REFUSED(requester_with("relation", cbor_build_string("friend")),
	             "requester's \"relation\"");
	ITEM_REFUSED(requester_with("phone", cbor_build_string("x")), "unknown (\"phone\")");
	ITEM_REFUSED(requester_with("letter", cbor_build_string("委任状")),
	             "a letter of attorney with relation self");
	ITEM_REFUSED(requester_with("letter", cbor_build_string("")), "requester's \"letter\"");
	/* a person */
	ITEM_REFUSED(person2_with("version_digest", NULL), "person 2 has no \"version_digest\"");
	ITEM_REFUSED(person2_with("resident_code", cbor_build_string("2")),
	             "person 2: \"resident_code\" is not 11 digits");
	ITEM_REFUSED(person2_with("record_version", cbor_build_string("3")),
	             "person 2: \"record_version\" is not a uint");
	ITEM_REFUSED(person2_with("version_digest", cbor_build_bytestring(short_digest, 31)),
	             "person 2: \"version_digest\" is not 32 bytes");
	ITEM_REFUSED(person2_with("fields", cbor_new_definite_map(0)),
	             "person 2: \"fields\" is not a map of 1 to");
	{
		cbor_item_t *f = cbor_new_definite_map(1);

		hwg_cbor_map_put_uint(f, "name", 5);
		ITEM_REFUSED(person2_with("fields", f), "person 2: field 1 is not a name");
		f = cbor_new_definite_map(1);
		hwg_cbor_map_put_text(f, "a_field_name_of_thirty_three_byte", "x");
		ITEM_REFUSED(person2_with("fields", f), "person 2: field 1 is not a name");
	}
	/* the people together */
	base(&x);
	snprintf(x.people[1].resident_code, 12, "10000000001");
	reseal(&x);
	REFUSED(&x, HWG_E_DOCUMENT_INVALID, "person 2 is person 1 again");
	base(&x);
	snprintf(x.doc.subject, sizeof(x.doc.subject), "10000000003");
	REFUSED(&x, HWG_E_DOCUMENT_INVALID, "the subject is not among the people");
	base(&x);
	x.doc.household = 0;
	REFUSED(&x, HWG_E_DOCUMENT_INVALID, "a copy of one person (\"household\": false) lists 2");
	single(&x, HWG_CERTDOC_INKAN);
	x.doc.household = 1;
	REFUSED(&x, HWG_E_DOCUMENT_INVALID, "an inkan is of one person");
	/* not one CBOR item */
	{
		uint8_t *doc;
		size_t len;

		doc = sign_payload((const uint8_t *)"\xa0\x00", 2, REGISTRY, reg_key, &len);
		CHECK(outcome(__LINE__, doc, len, HWG_E_DOCUMENT_INVALID, "not one well-formed"));
		free(doc);
	}
}

/* 3 and 4. The digests. */
static void
test_digest_refusals(void)
{
	struct fixture x;

	base(&x);
	x.doc.fields_digest[5] ^= 0x40;
	REFUSED(&x, HWG_E_DOCUMENT_MISMATCH,
	        "the fields' digest is not the one the registry signed");
	/* a field of person 2 from another version: the version digest is that record's */
	base(&x);
	set(&x, 1, "address", "東京都港区芝公園四丁目2番8号");
	{
		uint8_t keep[32];

		memcpy(keep, x.people[1].version_digest, 32);
		reseal(&x);
		memcpy(x.people[1].version_digest, keep, 32);
		hwg_certdoc_fields_digest(x.people, 2, x.doc.fields_digest);
	}
	REFUSED(&x, HWG_E_DOCUMENT_MISMATCH, "person 2: a field is not from record version 3");
	/* another record version named with the fields of this one */
	base(&x);
	x.people[0].record_version = 8;
	hwg_certdoc_fields_digest(x.people, 2, x.doc.fields_digest);
	REFUSED(&x, HWG_E_DOCUMENT_MISMATCH, "person 1: a field is not from record version 8");
	/* the fields' digest is judged before the versions' */
	x.doc.fields_digest[0] ^= 1;
	REFUSED(&x, HWG_E_DOCUMENT_MISMATCH, "fields' digest");
}

/* 5. Fields by kind, and their formats. */
static void
test_field_refusals(void)
{
	static const struct {
		const char *field, *value, *why;
	} bad[] = {
	    {"kana", "山田　太郎", "\"kana\" is not katakana"},
	    {"kana", "　", "\"kana\" is not katakana"},
	    {"birth", "1985/04/01", "\"birth\" is not a date"},
	    {"birth", "1985-02-29", "\"birth\" is not a date"},
	    {"sex", "M", "\"sex\" is not 男 or 女"},
	    {"notified", "yesterday", "\"notified\" is not a date"},
	    {"name", "山田　太郎山田　太郎山田　太郎山田　太郎山田　太郎山田　太郎",
	     "over 64 bytes"},
	    {"address", "東京都\x01千代田区", "holds a control character"},
	    {"address", "東京都\xe2\x80\xae千代田区", "holds a control character"}, /* U+202E */
	    {"address", "東京都\xc2\x85千代田区", "holds a control character"},     /* NEL */
	    {"address", "", "is empty"},
	    {"my_number", "537686677189", "\"my_number\" is not 12 digits with a valid check"},
	};
	char long_value[202];
	struct fixture x;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		base(&x);
		if (strcmp(bad[i].field, "my_number") == 0) { /* person 1's is sound */
			x.doc.my_number = 1;
			set(&x, 0, "my_number", "537686677188");
		}
		set(&x, 1, bad[i].field, bad[i].value);
		reseal(&x);
		REFUSED(&x, HWG_E_DOCUMENT_INVALID, bad[i].why);
		CHECK(strstr(bad[i].why, "person") == NULL);
	}
	memset(long_value, 'x', 201);
	long_value[201] = '\0';
	base(&x);
	set(&x, 1, "head", long_value);
	reseal(&x);
	REFUSED(&x, HWG_E_DOCUMENT_INVALID, "person 2: \"head\" is over 200 bytes");
	long_value[200] = '\0';
	base(&x);
	set(&x, 1, "head", long_value);
	reseal(&x);
	PASSES(&x); /* 200 bytes */
	/* fields the kind does not know or show, and required ones missing */
	base(&x);
	set(&x, 1, "phone", "03-1234-5678");
	reseal(&x);
	REFUSED(&x, HWG_E_DOCUMENT_INVALID, "person 2: field \"phone\" is unknown on a juminhyo");
	base(&x);
	set(&x, 0, "seal_no", "9876");
	reseal(&x);
	REFUSED(&x, HWG_E_DOCUMENT_INVALID,
	        "person 1: field \"seal_no\" is not shown on a juminhyo");
	base(&x);
	drop(&x, 1, "kana");
	reseal(&x);
	REFUSED(&x, HWG_E_DOCUMENT_INVALID, "person 2 has no \"kana\", which a juminhyo requires");
	single(&x, HWG_CERTDOC_TENSHUTSU);
	drop(&x, 0, "moving_date");
	reseal(&x);
	REFUSED(&x, HWG_E_DOCUMENT_INVALID, "person 1 has no \"moving_date\", which a tenshutsu");
	single(&x, HWG_CERTDOC_INKAN);
	set(&x, 0, "seal_no", "98a6");
	reseal(&x);
	REFUSED(&x, HWG_E_DOCUMENT_INVALID, "\"seal_no\" is not 1 to 20 digits");
	single(&x, HWG_CERTDOC_KISAI);
	set(&x, 0, "kana", "ヤマダ　タロウ"); /* a kisai shows the name and address only */
	reseal(&x);
	REFUSED(&x, HWG_E_DOCUMENT_INVALID, "field \"kana\" is not shown on a kisai");
	/* what passes: optional fields, half-width spaces and small kana in kana */
	base(&x);
	set(&x, 0, "previous_address", "北海道札幌市");
	set(&x, 0, "kana", "ヤマダ タロウ");
	set(&x, 1, "kana", "ヤマダ　ハナコヮ");
	reseal(&x);
	PASSES(&x);
}

/* 6, 7 and 8: the My Number and the proxy. */
static void
test_my_number_and_proxy(void)
{
	struct fixture x;

	base(&x);
	x.doc.my_number = 1;
	set(&x, 0, "my_number", "537686677188");
	set(&x, 1, "my_number", "000000000060");
	reseal(&x);
	PASSES(&x); /* the holder's household, in person */
	x.doc.relation = HWG_CERTDOC_HOUSEHOLD;
	PASSES(&x);
	drop(&x, 1, "my_number");
	reseal(&x);
	REFUSED(&x, HWG_E_DOCUMENT_INVALID, "person 2 has no \"my_number\", and the document says");
	base(&x);
	set(&x, 1, "my_number", "000000000060");
	reseal(&x);
	REFUSED(&x, HWG_E_DOCUMENT_INVALID, "person 2 shows a My Number, and the document says");
	/* asked for by a proxy */
	base(&x);
	x.doc.my_number = 1;
	set(&x, 0, "my_number", "537686677188");
	set(&x, 1, "my_number", "000000000060");
	x.doc.relation = HWG_CERTDOC_PROXY;
	snprintf(x.doc.letter, sizeof(x.doc.letter), "委任状第12号");
	reseal(&x);
	REFUSED(&x, HWG_E_MY_NUMBER_NOT_ALLOWED, "a proxy asked for");
	/* the proxy's letter is judged after the My Number */
	x.doc.letter[0] = '\0';
	REFUSED(&x, HWG_E_MY_NUMBER_NOT_ALLOWED, "a proxy asked for");
	x.doc.my_number = 0;
	drop(&x, 0, "my_number");
	drop(&x, 1, "my_number");
	reseal(&x);
	REFUSED(&x, HWG_E_DOCUMENT_INVALID, "a proxy's request names its letter of attorney");
	snprintf(x.doc.letter, sizeof(x.doc.letter), "委任状第12号");
	PASSES(&x);
	/* kinds that never show it */
	for (int k = HWG_CERTDOC_TENSHUTSU; k <= HWG_CERTDOC_INKAN; k++) {
		single(&x, k);
		x.doc.my_number = 1;
		set(&x, 0, "my_number", "537686677188");
		reseal(&x);
		REFUSED(&x, HWG_E_MY_NUMBER_NOT_ALLOWED, "never shows the My Number");
		x.doc.my_number = 0;
		REFUSED(&x, HWG_E_DOCUMENT_INVALID, "shows a My Number");
	}
	single(&x, HWG_CERTDOC_KISAI);
	x.doc.my_number = 1;
	set(&x, 0, "my_number", "537686677188");
	reseal(&x);
	PASSES(&x);
}

static void
test_builder_and_digests(void)
{
	/* ["hwgw-record-v1", "12345678901", 3, {"name": "A"}] in deterministic CBOR */
	static const uint8_t record[] = "\x84\x6ehwgw-record-v1\x6b"
	                                "12345678901\x03\xa1\x64name\x61\x41";
	struct hwg_certdoc_field one = {"name", "A"}, two[2] = {{"name", "A"}, {"name", "B"}},
	                         none = {"name", NULL};
	struct hwg_error err = {0};
	struct fixture x;
	uint8_t d[32], want[32], *p = NULL;
	size_t len;

	CHECK_EQ_INT(hwg_certdoc_version_digest("12345678901", 3, &one, 1, d), 0);
	SHA256(record, sizeof(record) - 1, want);
	CHECK(memcmp(d, want, 32) == 0);
	CHECK_EQ_INT(hwg_certdoc_version_digest("12345678901", 3, two, 2, d), HWG_E_INVALID);
	CHECK_EQ_INT(hwg_certdoc_version_digest("12345678901", 3, &none, 1, d), HWG_E_INVALID);
	CHECK_EQ_INT(hwg_certdoc_version_digest(NULL, 3, &one, 1, d), HWG_E_INVALID);
	/* the field order given does not matter: the map is sorted */
	base(&x);
	{
		uint8_t a[32], b[32];
		struct hwg_certdoc_field tmp = x.f[0][0];

		hwg_certdoc_version_digest("1", 1, x.f[0], x.people[0].n_fields, a);
		x.f[0][0] = x.f[0][1];
		x.f[0][1] = tmp;
		hwg_certdoc_version_digest("1", 1, x.f[0], x.people[0].n_fields, b);
		CHECK(memcmp(a, b, 32) == 0);
	}
	base(&x);
	x.doc.kind = HWG_CERTDOC_KIND_COUNT_;
	CHECK_EQ_INT(hwg_certdoc_build(&x.doc, &p, &len, &err), HWG_E_INVALID);
	base(&x);
	x.doc.relation = -1;
	CHECK_EQ_INT(hwg_certdoc_build(&x.doc, &p, &len, &err), HWG_E_INVALID);
	base(&x);
	x.f[1][2].value = NULL;
	CHECK_EQ_INT(hwg_certdoc_build(&x.doc, &p, &len, &err), HWG_E_INVALID);
	base(&x);
	x.f[1][2].name = "name";
	CHECK_EQ_INT(hwg_certdoc_build(&x.doc, &p, &len, &err), HWG_E_INVALID);
	CHECK(strstr(err.message, "twice") != NULL);
	CHECK_EQ_INT(hwg_certdoc_sign((const uint8_t *)"\xa0", 1, "a b", HWG_COSE_EDDSA,
	                              hwg_cose_evp_signer, reg_key, &p, &len, &err),
	             HWG_E_INVALID);
	CHECK_EQ_INT(hwg_certdoc_check(NULL, 0, GW, hwg_certdoc_registry_key, clients, NULL, &err),
	             HWG_E_INVALID);
}

int
main(void)
{
	struct hwg_error err = {0};
	int rc;

	reg_key = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	counter_key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	stranger_key = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	clients = hwg_clients_new();
	if (reg_key == NULL || counter_key == NULL || stranger_key == NULL || clients == NULL ||
	    hwg_clients_load(clients, walk, NULL, NULL, &err) != 0)
		return 2;
	HWG_RUN(test_accepted_and_what_it_gives);
	HWG_RUN(test_each_kind_accepted);
	HWG_RUN(test_signature_refusals);
	HWG_RUN(test_head_refusals);
	HWG_RUN(test_shape_refusals);
	HWG_RUN(test_digest_refusals);
	HWG_RUN(test_field_refusals);
	HWG_RUN(test_my_number_and_proxy);
	HWG_RUN(test_builder_and_digests);
	rc = HWG_TEST_END();
	hwg_clients_free(clients);
	EVP_PKEY_free(reg_key);
	EVP_PKEY_free(counter_key);
	EVP_PKEY_free(stranger_key);
	return rc;
}
