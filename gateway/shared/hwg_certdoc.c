/*
 * hwg_certdoc.c — a certificate's document: built (for the registry and
 * the tests), decoded and checked (for cert.issue); see hwg_certdoc.h.
 * The decoder reads what the registry signed as strictly as client
 * bytes, and copies it into the struct the renderer's request is made
 * from; the rules of steps 5 to 8 are in hwg_certdoc_rules.c.
 */
#include "hwg_certdoc.h"

#include <cbor.h>
#include <openssl/sha.h>
#include <stdlib.h>
#include <string.h>

#include "hwg_cbor.h"
#include "hwg_cbor_det.h"
#include "hwg_certdoc_rules.h"
#include "hwg_clients.h"
#include "hwg_roles.h"
#include "hwg_secret.h"
#include "hwg_text.h"

static const char RECORD_DOMAIN[] = "hwgw-record-v1";

_Static_assert(HWG_COSE_KID_MAX <= HWG_CERTDOC_REGISTRY_MAX, "every kid fits the registry's id");
_Static_assert(HWG_CERTDOC_REGISTRY_MAX == HWG_CLIENT_ID_MAX, "the registry's id is a client id");

static const char *const kind_names[HWG_CERTDOC_KIND_COUNT_] = {"juminhyo", "kisai", "tenshutsu",
                                                                "inkan"};
static const char *const relation_names[HWG_CERTDOC_RELATION_COUNT_] = {"self", "household",
                                                                        "proxy"};

const char *
hwg_certdoc_kind_name(int kind)
{
	return kind >= 0 && kind < HWG_CERTDOC_KIND_COUNT_ ? kind_names[kind] : "unknown";
}

int
hwg_certdoc_kind_parse(const char *name)
{
	for (int i = 0; name != NULL && i < HWG_CERTDOC_KIND_COUNT_; i++)
		if (strcmp(name, kind_names[i]) == 0)
			return i;
	return -1;
}

const char *
hwg_certdoc_relation_name(int relation)
{
	return relation >= 0 && relation < HWG_CERTDOC_RELATION_COUNT_ ? relation_names[relation]
	                                                               : "unknown";
}

int
hwg_certdoc_relation_parse(const char *name)
{
	for (int i = 0; name != NULL && i < HWG_CERTDOC_RELATION_COUNT_; i++)
		if (strcmp(name, relation_names[i]) == 0)
			return i;
	return -1;
}

/* ---------------------------------------------------------------- building */

/* Push item onto array and drop our reference (NULL: out of memory). */
static int
push(cbor_item_t *array, cbor_item_t *item)
{
	int ok = item != NULL && cbor_array_push(array, item);

	if (item != NULL)
		cbor_decref(&item);
	return ok ? 0 : -1;
}

static cbor_item_t *
fields_map(const struct hwg_certdoc_field *fields, size_t n)
{
	cbor_item_t *m = cbor_new_definite_map(n);

	for (size_t i = 0; m != NULL && i < n; i++)
		if (fields == NULL || fields[i].name == NULL || fields[i].value == NULL ||
		    hwg_cbor_map_put_text(m, fields[i].name, fields[i].value) != 0)
			cbor_decref(&m);
	return m;
}

/* SHA-256 of item's deterministic encoding. */
static int
det_digest(const cbor_item_t *item, uint8_t out[HWG_CERTDOC_DIGEST_LEN])
{
	uint8_t *p = NULL;
	size_t len = 0;
	int rc = hwg_cbor_det_encode(item, HWG_CERTDOC_MAX, &p, &len);

	if (rc == 0) {
		SHA256(p, len, out);
		hwg_wipe(p, len);
	}
	free(p);
	return rc;
}

int
hwg_certdoc_version_digest(const char *resident_code, uint64_t record_version,
                           const struct hwg_certdoc_field *fields, size_t n_fields,
                           uint8_t out[HWG_CERTDOC_DIGEST_LEN])
{
	cbor_item_t *a;
	int rc = HWG_E_NOMEM;

	if (resident_code == NULL || out == NULL)
		return HWG_E_INVALID;
	if ((a = cbor_new_definite_array(4)) == NULL)
		return HWG_E_NOMEM;
	if (push(a, cbor_build_string(RECORD_DOMAIN)) == 0 &&
	    push(a, cbor_build_string(resident_code)) == 0 &&
	    push(a, cbor_build_uint64(record_version)) == 0)
		rc =
		    push(a, fields_map(fields, n_fields)) == 0 ? det_digest(a, out) : HWG_E_INVALID;
	hwg_cbor_wipe_strings(a);
	cbor_decref(&a);
	return rc;
}

static cbor_item_t *
person_map(const struct hwg_certdoc_person *p)
{
	cbor_item_t *m = cbor_new_definite_map(4);

	if (m != NULL &&
	    (hwg_cbor_map_put_text(m, "resident_code", p->resident_code) != 0 ||
	     hwg_cbor_map_put_uint(m, "record_version", p->record_version) != 0 ||
	     hwg_cbor_map_put_bytes(m, "version_digest", p->version_digest,
	                            HWG_CERTDOC_DIGEST_LEN) != 0 ||
	     hwg_cbor_map_put_item(m, "fields", fields_map(p->fields, p->n_fields)) != 0))
		cbor_decref(&m);
	return m;
}

static cbor_item_t *
people_array(const struct hwg_certdoc_person *people, size_t n)
{
	cbor_item_t *a = cbor_new_definite_array(n);

	for (size_t i = 0; a != NULL && i < n; i++)
		if (people == NULL || push(a, person_map(&people[i])) != 0) {
			hwg_cbor_wipe_strings(a);
			cbor_decref(&a);
		}
	return a;
}

int
hwg_certdoc_fields_digest(const struct hwg_certdoc_person *people, size_t n_people,
                          uint8_t out[HWG_CERTDOC_DIGEST_LEN])
{
	cbor_item_t *a = people_array(people, n_people);
	int rc;

	if (a == NULL)
		return HWG_E_INVALID;
	rc = det_digest(a, out);
	hwg_cbor_wipe_strings(a);
	cbor_decref(&a);
	return rc;
}

static cbor_item_t *
requester_map(const struct hwg_certdoc *doc)
{
	int letter = doc->letter[0] != '\0';
	cbor_item_t *m = cbor_new_definite_map(letter ? 3 : 2);

	if (m != NULL &&
	    (hwg_cbor_map_put_text(m, "name", doc->requester_name) != 0 ||
	     hwg_cbor_map_put_text(m, "relation", hwg_certdoc_relation_name(doc->relation)) != 0 ||
	     (letter && hwg_cbor_map_put_text(m, "letter", doc->letter) != 0)))
		cbor_decref(&m);
	return m;
}

static cbor_item_t *
document_map(const struct hwg_certdoc *doc)
{
	cbor_item_t *m = cbor_new_definite_map(10);

	if (m != NULL &&
	    (hwg_cbor_map_put_uint(m, "v", 1) != 0 ||
	     hwg_cbor_map_put_text(m, "kind", hwg_certdoc_kind_name(doc->kind)) != 0 ||
	     hwg_cbor_map_put_text(m, "gateway", doc->gateway) != 0 ||
	     hwg_cbor_map_put_text(m, "subject", doc->subject) != 0 ||
	     hwg_cbor_map_put_bool(m, "household", doc->household) != 0 ||
	     hwg_cbor_map_put_item(m, "people", people_array(doc->people, doc->n_people)) != 0 ||
	     hwg_cbor_map_put_bool(m, "my_number", doc->my_number) != 0 ||
	     hwg_cbor_map_put_item(m, "requester", requester_map(doc)) != 0 ||
	     hwg_cbor_map_put_bytes(m, "fields_digest", doc->fields_digest,
	                            HWG_CERTDOC_DIGEST_LEN) != 0 ||
	     hwg_cbor_map_put_uint(m, "built", doc->built) != 0)) {
		hwg_cbor_wipe_strings(m);
		cbor_decref(&m);
	}
	return m;
}

int
hwg_certdoc_build(const struct hwg_certdoc *doc, uint8_t **payload, size_t *len,
                  struct hwg_error *err)
{
	cbor_item_t *m;
	int rc;

	if (doc == NULL || payload == NULL || len == NULL || doc->kind < 0 ||
	    doc->kind >= HWG_CERTDOC_KIND_COUNT_ || doc->relation < 0 ||
	    doc->relation >= HWG_CERTDOC_RELATION_COUNT_)
		return hwg_error_set(err, HWG_E_INVALID,
		                     "no document, or a kind or relation unknown");
	if ((m = document_map(doc)) == NULL)
		return hwg_error_set(err, HWG_E_INVALID, "a person's or field's text is missing");
	rc = hwg_cbor_det_encode(m, HWG_CERTDOC_MAX, payload, len);
	hwg_cbor_wipe_strings(m);
	cbor_decref(&m);
	if (rc == HWG_E_INVALID)
		return hwg_error_set(err, rc, "a field name is given twice for one person");
	if (rc != 0)
		return hwg_error_set(err, rc, "the document does not fit in %u bytes",
		                     HWG_CERTDOC_MAX);
	return 0;
}

int
hwg_certdoc_sign(const uint8_t *payload, size_t len, const char *registry_id, int alg,
                 hwg_cose_signer_fn sign, void *sign_ctx, uint8_t **out, size_t *out_len,
                 struct hwg_error *err)
{
	if (!hwg_client_id_valid(registry_id))
		return hwg_error_set(err, HWG_E_INVALID, "the registry's id is not a client id");
	return hwg_cose_sign1_encode_kid(alg, (const uint8_t *)registry_id, strlen(registry_id),
	                                 payload, len, sign, sign_ctx, out, out_len, err);
}

/* ---------------------------------------------------------------- step 1: the signature */

int
hwg_certdoc_registry_key(void *clients, const char *kid, EVP_PKEY **key, struct hwg_error *err)
{
	struct hwg_client_entry e;

	if (clients == NULL || hwg_clients_lookup(clients, kid, &e) != 0)
		return hwg_error_set(err, HWG_E_DOCUMENT_SIGNATURE,
		                     "the document's key id \"%s\" is no registered client", kid);
	if (e.role != HWG_ROLE_REGISTRY) {
		int rc =
		    hwg_error_set(err, HWG_E_DOCUMENT_SIGNATURE,
		                  "client \"%s\" (role %s) is not a registry: it signs no document",
		                  kid, hwg_role_name(e.role));

		hwg_client_entry_clear(&e);
		return rc;
	}
	*key = e.key; /* the entry's own reference, handed over */
	e.key = NULL;
	hwg_client_entry_clear(&e);
	return 0;
}

static int
signature(const uint8_t *doc, size_t len, hwg_certdoc_key_fn key, void *key_arg,
          struct hwg_cose_sign1 *m, char registry[HWG_CERTDOC_REGISTRY_MAX + 1],
          struct hwg_error *err)
{
	struct hwg_error why = {0};
	EVP_PKEY *pub = NULL;
	int rc;

	if ((rc = hwg_cose_sign1_decode_kid(doc, len, m, &why)) != 0)
		return hwg_error_set(err, rc == HWG_E_NOMEM ? rc : HWG_E_DOCUMENT_SIGNATURE,
		                     "the document is not a signed COSE_Sign1 naming its key: %s",
		                     why.message);
	memcpy(registry, m->kid, m->kid_len); /* at most HWG_COSE_KID_MAX = 64 bytes */
	registry[m->kid_len] = '\0';
	if (strlen(registry) != m->kid_len || !hwg_client_id_valid(registry))
		return hwg_error_set(err, HWG_E_DOCUMENT_SIGNATURE,
		                     "the document's key id is not a client id");
	if ((rc = key(key_arg, registry, &pub, err)) != 0)
		return rc;
	rc = hwg_cose_sign1_verify(m, pub, &why);
	EVP_PKEY_free(pub);
	if (rc != 0)
		return hwg_error_set(err, HWG_E_DOCUMENT_SIGNATURE,
		                     "the document is not signed by registry \"%s\": %s", registry,
		                     why.message);
	return 0;
}

/* ---------------------------------------------------------------- step 2: the shape */

/* The people and their fields, owned by a checked document. */
struct owned {
	struct hwg_certdoc_person *people;
	size_t n_people;
};

/* Wipe a copied string (personal data) and free it. */
static void
free_text(const char *s)
{
	if (s != NULL)
		hwg_wipe((char *)s, strlen(s));
	free((char *)s);
}

static void
owned_free(struct owned *o)
{
	if (o == NULL)
		return;
	for (size_t i = 0; o->people != NULL && i < o->n_people; i++) {
		struct hwg_certdoc_field *f = (struct hwg_certdoc_field *)o->people[i].fields;

		for (size_t j = 0; f != NULL && j < o->people[i].n_fields; j++) {
			free_text(f[j].name);
			free_text(f[j].value);
		}
		free(f);
	}
	free(o->people);
	free(o);
}

static int
invalid(struct hwg_error *err, const char *what)
{
	return hwg_error_set(err, HWG_E_DOCUMENT_INVALID, "%s", what);
}

static const char *const doc_keys[] = {
    "v",         "kind",      "gateway",       "subject", "household", "people",
    "my_number", "requester", "fields_digest", "built",   NULL};
static const char *const person_keys[] = {"resident_code", "record_version", "version_digest",
                                          "fields", NULL};
static const char *const requester_keys[] = {"name", "relation", "letter", NULL};

/* The value under key in map (which has no key twice: checked first). */
static const cbor_item_t *
get(const cbor_item_t *map, const char *key)
{
	int dup = 0;

	return hwg_cbor_map_get(map, key, &dup);
}

/* Every key of map among allowed and each of the first n_required there; a reason, or NULL. */
static int
keys_ok(const cbor_item_t *map, const char *const *allowed, size_t n_required, const char *what,
        struct hwg_error *err)
{
	char bad[4 * 32 + 1], shown[4 * 32 + 1];

	if (!cbor_isa_map(map))
		return hwg_error_set(err, HWG_E_DOCUMENT_INVALID, "%s is not a map", what);
	if (hwg_cbor_map_keys_check(map, allowed, bad, 33) != 0)
		return hwg_error_set(err, HWG_E_DOCUMENT_INVALID,
		                     "%s has a key that is not text, twice, or unknown (\"%s\")",
		                     what,
		                     hwg_text_escape(shown, sizeof(shown), bad, HWG_TEXT_CONTROLS));
	for (size_t i = 0; i < n_required; i++)
		if (get(map, allowed[i]) == NULL)
			return hwg_error_set(err, HWG_E_DOCUMENT_INVALID, "%s has no \"%s\"", what,
			                     allowed[i]);
	return 0;
}

static int
is_bool(const cbor_item_t *it, int *v)
{
	if (it == NULL || !cbor_is_bool(it))
		return 0;
	*v = cbor_get_bool(it);
	return 1;
}

/* A resident code: exactly 11 ASCII digits. */
static int
resident_code(const cbor_item_t *it, char out[HWG_CERTDOC_CODE_LEN + 1])
{
	return hwg_cbor_text_copy(it, out, HWG_CERTDOC_CODE_LEN + 1) == 0 &&
	       strlen(out) == HWG_CERTDOC_CODE_LEN &&
	       strspn(out, "0123456789") == HWG_CERTDOC_CODE_LEN;
}

static int
digest32(const cbor_item_t *it, uint8_t out[HWG_CERTDOC_DIGEST_LEN])
{
	const uint8_t *p;
	size_t len;

	if (hwg_cbor_bytes(it, &p, &len) != 0 || len != HWG_CERTDOC_DIGEST_LEN)
		return 0;
	memcpy(out, p, len);
	return 1;
}

/* A definite text without NUL as a malloc'd string (at most max bytes), or NULL. */
static char *
text_dup(const cbor_item_t *it, size_t max)
{
	size_t n;
	char *s;

	if (it == NULL || !cbor_isa_string(it) || !cbor_string_is_definite(it) ||
	    (n = cbor_string_length(it)) > max || memchr(cbor_string_handle(it), '\0', n) != NULL ||
	    (s = malloc(n + 1)) == NULL)
		return NULL;
	memcpy(s, cbor_string_handle(it), n);
	s[n] = '\0';
	return s;
}

static int
fields_decode(const cbor_item_t *m, struct hwg_certdoc_person *p, size_t i, struct hwg_error *err)
{
	struct hwg_certdoc_field *f;
	struct cbor_pair *pairs;
	size_t n;

	if (m == NULL || !cbor_isa_map(m) || !cbor_map_is_definite(m) ||
	    (n = cbor_map_size(m)) == 0 || n > HWG_CERTDOC_FIELDS_MAX)
		return hwg_error_set(err, HWG_E_DOCUMENT_INVALID,
		                     "person %zu: \"fields\" is not a map of 1 to %d fields", i + 1,
		                     HWG_CERTDOC_FIELDS_MAX);
	if ((f = calloc(n, sizeof(*f))) == NULL)
		return hwg_error_set(err, HWG_E_NOMEM, "out of memory");
	p->fields = f;
	pairs = cbor_map_handle(m);
	for (size_t j = 0; j < n; j++, p->n_fields++) {
		f[j].name = text_dup(pairs[j].key, HWG_CERTDOC_FIELD_NAME_MAX);
		f[j].value = text_dup(pairs[j].value, HWG_CERTDOC_MAX);
		if (f[j].name == NULL || f[j].value == NULL) {
			p->n_fields++; /* so that what was copied is freed */
			return hwg_error_set(
			    err, HWG_E_DOCUMENT_INVALID,
			    "person %zu: field %zu is not a name (1 to %d bytes) and a "
			    "text, both without NUL",
			    i + 1, j + 1, HWG_CERTDOC_FIELD_NAME_MAX);
		}
	}
	return 0;
}

static int
person_decode(const cbor_item_t *m, struct hwg_certdoc_person *p, size_t i, struct hwg_error *err)
{
	char what[32];
	int rc;

	snprintf(what, sizeof(what), "person %zu", i + 1);
	if ((rc = keys_ok(m, person_keys, 4, what, err)) != 0)
		return rc;
	if (!resident_code(get(m, "resident_code"), p->resident_code))
		return hwg_error_set(err, HWG_E_DOCUMENT_INVALID,
		                     "person %zu: \"resident_code\" is not 11 digits", i + 1);
	if (hwg_cbor_uint(get(m, "record_version"), &p->record_version) != 0)
		return hwg_error_set(err, HWG_E_DOCUMENT_INVALID,
		                     "person %zu: \"record_version\" is not a uint", i + 1);
	if (!digest32(get(m, "version_digest"), p->version_digest))
		return hwg_error_set(err, HWG_E_DOCUMENT_INVALID,
		                     "person %zu: \"version_digest\" is not 32 bytes", i + 1);
	return fields_decode(get(m, "fields"), p, i, err);
}

/* Each resident once; the subject among them. */
static int
people_unique(const struct hwg_certdoc *doc, struct hwg_error *err)
{
	int subject = 0;

	for (size_t i = 0; i < doc->n_people; i++) {
		subject |= strcmp(doc->people[i].resident_code, doc->subject) == 0;
		for (size_t j = 0; j < i; j++)
			if (strcmp(doc->people[i].resident_code, doc->people[j].resident_code) == 0)
				return hwg_error_set(
				    err, HWG_E_DOCUMENT_INVALID,
				    "person %zu is person %zu again (the same resident "
				    "code)",
				    i + 1, j + 1);
	}
	if (!subject)
		return invalid(err, "the subject is not among the people");
	if (!doc->household && doc->n_people != 1)
		return hwg_error_set(err, HWG_E_DOCUMENT_INVALID,
		                     "a copy of one person (\"household\": false) lists %zu people",
		                     doc->n_people);
	if (doc->kind == HWG_CERTDOC_INKAN && doc->household)
		return invalid(err, "an inkan is of one person (\"household\" must be false)");
	return 0;
}

static int
people_decode(const cbor_item_t *a, struct hwg_certdoc *doc, struct owned *own,
              struct hwg_error *err)
{
	size_t n;
	int rc;

	if (!cbor_isa_array(a) || !cbor_array_is_definite(a) || (n = cbor_array_size(a)) == 0 ||
	    n > HWG_CERTDOC_PEOPLE_MAX)
		return hwg_error_set(err, HWG_E_DOCUMENT_INVALID,
		                     "\"people\" is not an array of 1 to %d people",
		                     HWG_CERTDOC_PEOPLE_MAX);
	if ((own->people = calloc(n, sizeof(*own->people))) == NULL)
		return hwg_error_set(err, HWG_E_NOMEM, "out of memory");
	own->n_people = n;
	doc->people = own->people;
	doc->n_people = n;
	for (size_t i = 0; i < n; i++)
		if ((rc = person_decode(cbor_array_handle(a)[i], &own->people[i], i, err)) != 0)
			return rc;
	return people_unique(doc, err);
}

static int
requester_decode(const cbor_item_t *m, struct hwg_certdoc *doc, struct hwg_error *err)
{
	const cbor_item_t *letter;
	char relation[16];
	int rc;

	if ((rc = keys_ok(m, requester_keys, 2, "\"requester\"", err)) != 0)
		return rc;
	if (hwg_cbor_text_copy(get(m, "name"), doc->requester_name, sizeof(doc->requester_name)) !=
	        0 ||
	    !hwg_certdoc_plain(doc->requester_name, HWG_CERTDOC_NAME_MAX))
		return invalid(err, "the requester's \"name\" is not 1 to 64 bytes of text without "
		                    "control characters");
	if (hwg_cbor_text_copy(get(m, "relation"), relation, sizeof(relation)) != 0 ||
	    (doc->relation = hwg_certdoc_relation_parse(relation)) < 0)
		return invalid(err, "the requester's \"relation\" is not self, household or proxy");
	if ((letter = get(m, "letter")) == NULL)
		return 0;
	if (hwg_cbor_text_copy(letter, doc->letter, sizeof(doc->letter)) != 0 ||
	    !hwg_certdoc_plain(doc->letter, HWG_CERTDOC_VALUE_MAX))
		return invalid(err, "the requester's \"letter\" is not 1 to 200 bytes of text "
		                    "without control characters");
	if (doc->relation != HWG_CERTDOC_PROXY)
		return hwg_error_set(err, HWG_E_DOCUMENT_INVALID,
		                     "a letter of attorney with relation %s (a proxy's only)",
		                     hwg_certdoc_relation_name(doc->relation));
	return 0;
}

/* "v", "kind" and "gateway", in the plan's order, before anything else of the shape. */
static int
head_decode(const cbor_item_t *m, const char *gateway_id, struct hwg_certdoc *doc,
            struct hwg_error *err)
{
	char kind[HWG_CERTDOC_FIELD_NAME_MAX + 1], shown[4 * HWG_CERTDOC_GATEWAY_MAX + 1];
	const cbor_item_t *v;
	uint64_t version;

	if (!cbor_isa_map(m) || !cbor_map_is_definite(m))
		return invalid(err, "the document is not a map");
	if ((v = get(m, "v")) == NULL || hwg_cbor_uint(v, &version) != 0 || version != 1)
		return invalid(err, "the document's version \"v\" is not 1");
	if (hwg_cbor_text_copy(get(m, "kind"), kind, sizeof(kind)) != 0 ||
	    (doc->kind = hwg_certdoc_kind_parse(kind)) < 0)
		return invalid(err, "\"kind\" is not juminhyo, kisai, tenshutsu or inkan");
	if (hwg_cbor_text_copy(get(m, "gateway"), doc->gateway, sizeof(doc->gateway)) != 0)
		return invalid(err, "\"gateway\" is not a gateway id");
	if (strcmp(doc->gateway, gateway_id) != 0)
		return hwg_error_set(
		    err, HWG_E_DOCUMENT_INVALID,
		    "the document was built for another gateway (\"%s\")",
		    hwg_text_escape(shown, sizeof(shown), doc->gateway, HWG_TEXT_CONTROLS));
	return 0;
}

static int
shape_decode(const cbor_item_t *m, const uint8_t *payload, size_t len, const char *gateway_id,
             struct hwg_certdoc *doc, struct owned *own, struct hwg_error *err)
{
	int rc;

	if ((rc = head_decode(m, gateway_id, doc, err)) != 0 ||
	    (rc = keys_ok(m, doc_keys, 10, "the document", err)) != 0)
		return rc;
	if (!hwg_cbor_det_is(m, payload, len))
		return invalid(err, "the document is not in deterministic CBOR encoding");
	if (!resident_code(get(m, "subject"), doc->subject))
		return invalid(err, "\"subject\" is not a resident code (11 digits)");
	if (!is_bool(get(m, "household"), &doc->household) ||
	    !is_bool(get(m, "my_number"), &doc->my_number))
		return invalid(err, "\"household\" or \"my_number\" is not a bool");
	if (!digest32(get(m, "fields_digest"), doc->fields_digest))
		return invalid(err, "\"fields_digest\" is not 32 bytes");
	if (hwg_cbor_uint(get(m, "built"), &doc->built) != 0)
		return invalid(err, "\"built\" is not a uint");
	if ((rc = requester_decode(get(m, "requester"), doc, err)) != 0)
		return rc;
	return people_decode(get(m, "people"), doc, own, err);
}

/* ---------------------------------------------------------------- steps 3 and 4: the digests */

static int
digests(const struct hwg_certdoc *doc, struct hwg_error *err)
{
	uint8_t d[HWG_CERTDOC_DIGEST_LEN];

	if (hwg_certdoc_fields_digest(doc->people, doc->n_people, d) != 0)
		return hwg_error_set(err, HWG_E_INTERNAL, "cannot compute the fields' digest");
	if (memcmp(d, doc->fields_digest, sizeof(d)) != 0)
		return hwg_error_set(err, HWG_E_DOCUMENT_MISMATCH,
		                     "the fields' digest is not the one the registry signed");
	for (size_t i = 0; i < doc->n_people; i++) {
		const struct hwg_certdoc_person *p = &doc->people[i];

		if (hwg_certdoc_version_digest(p->resident_code, p->record_version, p->fields,
		                               p->n_fields, d) != 0)
			return hwg_error_set(err, HWG_E_INTERNAL,
			                     "cannot compute a version digest");
		if (memcmp(d, p->version_digest, sizeof(d)) != 0)
			return hwg_error_set(
			    err, HWG_E_DOCUMENT_MISMATCH,
			    "person %zu: a field is not from record version %llu of "
			    "that resident",
			    i + 1, (unsigned long long)p->record_version);
	}
	return 0;
}

/* ---------------------------------------------------------------- the check */

static int
payload_checks(const struct hwg_cose_sign1 *m, const char *gateway_id, struct hwg_certdoc *doc,
               struct owned *own, struct hwg_error *err)
{
	cbor_item_t *root = hwg_cbor_load(m->payload, m->payload_len, NULL);
	int rc;

	if (root == NULL)
		return invalid(err, "the document's payload is not one well-formed CBOR item");
	rc = shape_decode(root, m->payload, m->payload_len, gateway_id, doc, own, err);
	hwg_cbor_wipe_strings(root);
	cbor_decref(&root);
	if (rc == 0)
		rc = digests(doc, err);
	if (rc == 0)
		rc = hwg_certdoc_rules_fields(doc, err);
	if (rc == 0)
		rc = hwg_certdoc_rules_my_number(doc, err);
	if (rc == 0)
		rc = hwg_certdoc_rules_letter(doc, err);
	return rc;
}

int
hwg_certdoc_check(const uint8_t *doc, size_t len, const char *gateway_id, hwg_certdoc_key_fn key,
                  void *key_arg, struct hwg_certdoc *out, struct hwg_error *err)
{
	struct hwg_certdoc d;
	struct hwg_cose_sign1 m;
	struct owned *own;
	int rc;

	if (out == NULL || gateway_id == NULL || key == NULL || (doc == NULL && len > 0))
		return hwg_error_set(err, HWG_E_INVALID, "no document, gateway id, key or output");
	memset(out, 0, sizeof(*out));
	if (len > HWG_CERTDOC_MAX)
		return hwg_error_set(err, HWG_E_DOCUMENT_INVALID,
		                     "the document is %zu bytes, over %u", len, HWG_CERTDOC_MAX);
	memset(&d, 0, sizeof(d));
	memset(&m, 0, sizeof(m));
	if ((own = calloc(1, sizeof(*own))) == NULL)
		return hwg_error_set(err, HWG_E_NOMEM, "out of memory");
	d.owned_ = own;
	if ((rc = signature(doc, len, key, key_arg, &m, d.registry, err)) == 0) {
		SHA256(m.payload, m.payload_len, d.digest);
		rc = payload_checks(&m, gateway_id, &d, own, err);
	}
	hwg_cose_sign1_clear(&m); /* wipes the payload */
	if (rc != 0) {
		hwg_certdoc_clear(&d);
		return rc;
	}
	*out = d;
	return 0;
}

void
hwg_certdoc_clear(struct hwg_certdoc *doc)
{
	if (doc == NULL)
		return;
	owned_free(doc->owned_);
	hwg_wipe(doc, sizeof(*doc));
}
