/*
 * reg_issue.c — who may get which certificate, and the signed document
 * that cert.issue prints, built from one version of each person's record
 * read in one snapshot.
 *
 * The rules, in this order (checks that depend only on the request come
 * first, so that their answer can never differ because of a record's
 * state): the kind; a proxy's letter of attorney; the My Number only for
 * the person or the household, never on a move-out or seal certificate;
 * the subject's record; the requester's tie (the person, the same
 * household, a proxy with a letter; anyone else is refused); then each
 * person on the page: a DV support measure in force (applied on or before
 * today, not ended) refuses everyone but that person, 証明書発行制御区分
 * holds every issuance, 広域交付制御区分 refuses issuance at another
 * city's counter.  Every refusal for a record's state is, to anyone but
 * the person, the same HWG_E_NOT_ENTITLED with the same words as for a
 * requester with no tie at all: it reveals no measure and no flag.
 */
#include <openssl/bio.h>
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hwg_cose.h"
#include "hwg_file.h"
#include "hwg_secret.h"
#include "reg_certdoc.h"
#include "reg_hsm.h"
#include "reg_ids.h"
#include "reg_internal.h"

#define HEAD "世帯主"
#define PAGE_MAX 32
#define DOC_MAX (256 * 1024)
#define KEY_FILE_MAX 16384
#define NEUTRAL                                                                                    \
	"this requester may not be issued this certificate; the person concerned may ask at the "  \
	"counter"

struct page_person {
	struct reg_person p;
	char head[192];
	struct reg_fields f;
};

struct page {
	struct page_person people[PAGE_MAX];
	size_t n;
};

static int
neutral(char *why, size_t whylen, struct hwg_error *err, const char *what, const char *a)
{
	if (why != NULL)
		snprintf(why, whylen, "%s: %s", what, a);
	return hwg_error_set(err, HWG_E_NOT_ENTITLED, "%s", NEUTRAL);
}

/* -------------------------------------------------- the request alone */

static int
kind_check(const char *kind, struct hwg_error *err)
{
	if (kind == NULL)
		return hwg_error_set(err, HWG_E_INVALID, "certificate: no kind");
	if (strcmp(kind, "inkan") == 0)
		return hwg_error_set(
		    err, HWG_E_INVALID,
		    "certificate inkan: seal registration is not kept in this register");
	if (strcmp(kind, "juminhyo") != 0 && strcmp(kind, "kisai") != 0 &&
	    strcmp(kind, "tenshutsu") != 0)
		return hwg_error_set(err, HWG_E_INVALID, "certificate kind %s unknown", kind);
	return 0;
}

static int
request_check(const struct reg_cert_request *q, struct hwg_error *err)
{
	const struct reg_requester *rq = &q->req;
	int rc;

	if ((rc = kind_check(q->kind, err)) != 0 ||
	    (rc = reg_code_validate(q->subject, err)) != 0 ||
	    (rc = reg_date_check("today", q->day, err)) != 0)
		return rc;
	if (q->gateway_id == NULL || q->gateway_id[0] == '\0')
		return hwg_error_set(err, HWG_E_INVALID, "certificate: no gateway id");
	if (rq->relation < REG_REQ_SELF || rq->relation > REG_REQ_THIRD)
		return hwg_error_set(err, HWG_E_INVALID, "requester: unknown relation");
	if ((rc = reg_text_check("requester name", rq->name, 64, err)) != 0)
		return rc;
	if (rq->relation == REG_REQ_PROXY && (rq->letter == NULL || rq->letter[0] == '\0'))
		return hwg_error_set(err, HWG_E_INVALID,
		                     "a proxy needs a letter of attorney (委任状): none given");
	if ((rq->relation == REG_REQ_SELF || rq->relation == REG_REQ_HOUSEHOLD) &&
	    (rc = reg_code_validate(rq->resident_code, err)) != 0)
		return rc;
	if (q->my_number && (rq->relation == REG_REQ_PROXY || rq->relation == REG_REQ_THIRD))
		return hwg_error_set(err, HWG_E_MY_NUMBER_NOT_ALLOWED,
		                     "the My Number is shown only to the person or the household");
	if (q->my_number && strcmp(q->kind, "tenshutsu") == 0)
		return hwg_error_set(err, HWG_E_MY_NUMBER_NOT_ALLOWED,
		                     "a move-out certificate never shows the My Number");
	return 0;
}

/* --------------------------------------------------- the records */

static int
load_page(struct hwgw_registry *r, const struct reg_cert_request *q, struct page *pg,
          struct hwg_error *err)
{
	char codes[PAGE_MAX][REG_CODE_LEN + 1];
	struct reg_person *s = &pg->people[0].p;
	int moving = strcmp(q->kind, "tenshutsu") == 0;
	size_t n = 0;
	int rc;

	if ((rc = reg_version_load(r, q->subject, 0, q->my_number, s, err)) != 0)
		return rc;
	pg->n = 1;
	if (moving != (strcmp(s->status, REG_MOVED_OUT) == 0))
		return hwg_error_set(err, HWG_E_NOT_RESIDENT,
		                     moving ? "record %s has no move-out: no move-out certificate"
		                            : "record %s is not a current resident's",
		                     q->subject);
	if (!q->household || moving)
		return 0;
	if ((rc = reg_household_members(r, s->household, codes, PAGE_MAX, &n, err)) != 0)
		return rc;
	pg->n = 0;
	for (size_t i = 0; i < n && rc == 0; i++)
		rc = reg_version_load(r, codes[i], 0, q->my_number, &pg->people[pg->n++].p, err);
	return rc;
}

static int
tie_check(struct hwgw_registry *r, const struct reg_cert_request *q, const struct reg_person *s,
          char *why, size_t whylen, struct hwg_error *err)
{
	const struct reg_requester *rq = &q->req;
	struct reg_person me;
	int rc;

	switch (rq->relation) {
	case REG_REQ_SELF:
		if (strcmp(rq->resident_code, q->subject) != 0)
			return neutral(why, whylen, err, "requester is not the subject",
			               rq->resident_code);
		return 0;
	case REG_REQ_HOUSEHOLD:
		rc = reg_version_load(r, rq->resident_code, 0, 0, &me, err);
		if (rc == HWG_E_NOT_FOUND || (rc == 0 && (strcmp(me.status, REG_ACTIVE) != 0 ||
		                                          strcmp(me.household, s->household) != 0)))
			return neutral(why, whylen, err, "requester is not in the household",
			               rq->resident_code);
		return rc;
	case REG_REQ_PROXY:
		return 0;
	default:
		return neutral(why, whylen, err, "no tie to the subject", "a third party");
	}
}

static int
is_requester(const struct reg_cert_request *q, const struct reg_person *p)
{
	return q->req.relation == REG_REQ_SELF &&
	       strcmp(q->req.resident_code, p->resident_code) == 0;
}

/* The held record refused: plainly to its own person, neutrally to anyone else. */
static int
held(const struct reg_cert_request *q, const struct reg_person *p, const char *what, char *why,
     size_t whylen, struct hwg_error *err)
{
	if (why != NULL)
		snprintf(why, whylen, "%s set on %s", what, p->resident_code);
	if (is_requester(q, p))
		return hwg_error_set(err, HWG_E_ISSUANCE_HELD,
		                     "issuance for this record is held (%s); ask at the counter",
		                     what);
	return hwg_error_set(err, HWG_E_NOT_ENTITLED, "%s", NEUTRAL);
}

static int
state_check(struct hwgw_registry *r, const struct reg_cert_request *q, const struct reg_person *p,
            char *why, size_t whylen, struct hwg_error *err)
{
	int dv = hwgw_registry_dv_in_force(r, p->resident_code, q->day, err);

	if (dv < 0)
		return dv;
	if (dv && !is_requester(q, p))
		return neutral(why, whylen, err, "DV support measure in force", p->resident_code);
	if (p->cert_control)
		return held(q, p, "証明書発行制御区分", why, whylen, err);
	if (q->wide && p->wide_control)
		return held(q, p, "広域交付制御区分", why, whylen, err);
	return 0;
}

/* The rules over a page loaded in the current transaction. */
static int
rules(struct hwgw_registry *r, const struct reg_cert_request *q, struct page *pg, char *why,
      size_t whylen, struct hwg_error *err)
{
	int rc;

	if (why != NULL && whylen > 0)
		why[0] = '\0';
	if ((rc = request_check(q, err)) != 0 || (rc = load_page(r, q, pg, err)) != 0 ||
	    (rc = tie_check(r, q, &pg->people[0].p, why, whylen, err)) != 0)
		return rc;
	for (size_t i = 0; i < pg->n; i++)
		if ((rc = state_check(r, q, &pg->people[i].p, why, whylen, err)) != 0 ||
		    (rc = reg_blocked(r, pg->people[i].p.resident_code, err)) != 0)
			return rc;
	return 0;
}

/* The name of the head of p's household (p's own when p is or was the head). */
static int
head_name(struct hwgw_registry *r, struct page_person *pp, struct hwg_error *err)
{
	char codes[PAGE_MAX][REG_CODE_LEN + 1];
	struct reg_person h;
	size_t n = 0;
	int rc;

	if (strcmp(pp->p.relation, HEAD) == 0)
		return REG_COPY(pp->head, pp->p.name) ? HWG_E_INVALID : 0;
	if ((rc = reg_household_members(r, pp->p.household, codes, PAGE_MAX, &n, err)) != 0)
		return rc;
	if (n == 0 || (rc = reg_version_load(r, codes[0], 0, 0, &h, err)) != 0)
		return rc != 0 ? rc
		               : hwg_error_set(err, HWG_E_INVALID, "household %s has no head",
		                               pp->p.household);
	if (strcmp(h.relation, HEAD) != 0)
		return hwg_error_set(err, HWG_E_INVALID, "household %s has no head",
		                     pp->p.household);
	REG_COPY(pp->head, h.name);
	return 0;
}

static int
heads(struct hwgw_registry *r, struct page *pg, struct hwg_error *err)
{
	int rc = 0;

	for (size_t i = 0; i < pg->n && rc == 0; i++)
		rc = head_name(r, &pg->people[i], err);
	return rc;
}

static int
with_page(struct hwgw_registry *r, const struct reg_cert_request *q, struct page **out, char *why,
          size_t whylen, struct hwg_error *err)
{
	struct page *pg = calloc(1, sizeof(*pg));
	int rc;

	if (pg == NULL)
		return hwg_error_set(err, HWG_E_NOMEM, "out of memory");
	if ((rc = reg_db_begin(r->db, REG_TX_READ, err)) == 0) {
		rc = rules(r, q, pg, why, whylen, err);
		if (rc == 0 && out != NULL)
			rc = heads(r, pg, err);
		reg_db_rollback(r->db);
	}
	if (rc == 0 && out != NULL) {
		*out = pg;
		return 0;
	}
	hwg_wipe(pg, sizeof(*pg));
	free(pg);
	return rc;
}

int
hwgw_registry_may_issue(struct hwgw_registry *r, const struct reg_cert_request *req, char *why,
                        size_t whylen, struct hwg_error *err)
{
	return with_page(r, req, NULL, why, whylen, err);
}

/* ---------------------------------------------------- the document */

static void
add(struct reg_fields *f, const char *key, const char *val)
{
	if (val != NULL && val[0] != '\0' && f->n < REG_FIELDS_MAX) {
		f->key[f->n] = key;
		f->val[f->n++] = val;
	}
}

/* Exactly what the page shows of this person, for this kind. */
static int
fields_of(const struct reg_cert_request *q, struct page_person *pp, struct hwg_error *err)
{
	const struct reg_person *p = &pp->p;
	struct reg_fields *f = &pp->f;
	int full = strcmp(q->kind, "kisai") != 0;

	f->n = 0;
	add(f, "name", p->name);
	add(f, "address", p->address);
	if (full) {
		add(f, "kana", p->kana);
		add(f, "birth", p->birth);
		add(f, "sex", strcmp(p->sex, "1") == 0 ? "男" : "女");
		add(f, "relation", p->relation);
		add(f, "head", pp->head);
	}
	if (strcmp(q->kind, "juminhyo") == 0) {
		add(f, "resident_since", p->resident_since);
		add(f, "address_since", p->address_since);
		add(f, "notified", p->notified);
		add(f, "previous_address", p->previous_address);
	}
	if (strcmp(q->kind, "tenshutsu") == 0) {
		add(f, "moving_to", p->moving_to);
		add(f, "moving_date", p->moving_date);
	}
	if (q->my_number) {
		if (p->my_number[0] == '\0')
			return hwg_error_set(err, HWG_E_INVALID, "record %s has no My Number",
			                     p->resident_code);
		add(f, "my_number", p->my_number);
	}
	for (size_t i = 0; i < f->n; i++)
		if (strlen(f->val[i]) > (strcmp(f->key[i], "name") == 0 ? 64u : 200u))
			return hwg_error_set(err, HWG_E_INVALID,
			                     "record %s: %s is longer than a certificate allows",
			                     p->resident_code, f->key[i]);
	return 0;
}

/* person = {"fields", "resident_code", "record_version", "version_digest"} (key order). */
static int
write_person(struct reg_cbor *w, struct page_person *pp)
{
	uint8_t d[32];
	int rc;

	if ((rc = reg_certdoc_version_digest(pp->p.resident_code, (uint64_t)pp->p.version, &pp->f,
	                                     d)) != 0)
		return rc;
	reg_cbor_map(w, 4);
	reg_cbor_text(w, "fields");
	reg_certdoc_fields_write(w, &pp->f);
	reg_cbor_text(w, "resident_code");
	reg_cbor_text(w, pp->p.resident_code);
	reg_cbor_text(w, "record_version");
	reg_cbor_uint(w, (uint64_t)pp->p.version);
	reg_cbor_text(w, "version_digest");
	reg_cbor_bytes(w, d, sizeof(d));
	return w->rc;
}

static int
write_people(const struct reg_cert_request *q, struct page *pg, struct reg_cbor *w,
             struct hwg_error *err)
{
	int rc;

	reg_cbor_array(w, pg->n);
	for (size_t i = 0; i < pg->n; i++)
		if ((rc = fields_of(q, &pg->people[i], err)) != 0 ||
		    (rc = write_person(w, &pg->people[i])) != 0)
			return rc == HWG_E_INVALID ? rc
			                           : hwg_error_set(err, rc, "document too large");
	return 0;
}

static void
write_requester(struct reg_cbor *w, const struct reg_requester *rq)
{
	static const char *const rel[] = {"", "self", "household", "proxy"};
	int letter = rq->relation == REG_REQ_PROXY;

	reg_cbor_map(w, letter ? 3 : 2); /* name, letter, relation */
	reg_cbor_text(w, "name");
	reg_cbor_text(w, rq->name);
	if (letter) {
		reg_cbor_text(w, "letter");
		reg_cbor_text(w, rq->letter);
	}
	reg_cbor_text(w, "relation");
	reg_cbor_text(w, rel[rq->relation]);
}

/* The payload map, its keys in deterministic order (length, then bytes). */
static void
write_payload(struct reg_cbor *w, const struct reg_cert_request *q, const struct hwg_buf *people,
              int64_t now_s)
{
	uint8_t d[32];

	reg_certdoc_fields_digest(hwg_buf_ptr(people), hwg_buf_len(people), d);
	reg_cbor_map(w, 10);
	reg_cbor_text(w, "v");
	reg_cbor_uint(w, 1);
	reg_cbor_text(w, "kind");
	reg_cbor_text(w, q->kind);
	reg_cbor_text(w, "built");
	reg_cbor_uint(w, (uint64_t)now_s);
	reg_cbor_text(w, "people");
	reg_cbor_raw(w, hwg_buf_ptr(people), hwg_buf_len(people));
	reg_cbor_text(w, "gateway");
	reg_cbor_text(w, q->gateway_id);
	reg_cbor_text(w, "subject");
	reg_cbor_text(w, q->subject);
	reg_cbor_text(w, "household");
	reg_cbor_bool(w, q->household && strcmp(q->kind, "tenshutsu") != 0);
	reg_cbor_text(w, "my_number");
	reg_cbor_bool(w, q->my_number);
	reg_cbor_text(w, "requester");
	write_requester(w, &q->req);
	reg_cbor_text(w, "fields_digest");
	reg_cbor_bytes(w, d, sizeof(d));
}

/* ------------------------------------------------------ the signer */

/* One of key (a PEM file's) or p11 + p11_key (an HSM's, owned by p11). */
struct reg_signer {
	EVP_PKEY *key;
	struct hwg_p11 *p11;
	struct hwg_p11_key *p11_key;
	int alg;
	char kid[64];
};

static int
signer_new(const char *client_id, struct reg_signer **out, struct hwg_error *err)
{
	if (client_id == NULL || client_id[0] == '\0' || strlen(client_id) >= 64)
		return hwg_error_set(err, HWG_E_CONFIG,
		                     "registry key: client id missing or too long");
	if ((*out = calloc(1, sizeof(**out))) == NULL)
		return hwg_error_set(err, HWG_E_NOMEM, "out of memory");
	snprintf((*out)->kid, sizeof((*out)->kid), "%s", client_id);
	return 0;
}

int
reg_signer_load(const char *pem_path, const char *client_id, struct reg_signer **out,
                struct hwg_error *err)
{
	struct reg_signer *s;
	uint8_t *buf;
	size_t len = 0;
	BIO *bio;
	int rc;

	if ((rc = signer_new(client_id, &s, err)) != 0)
		return rc;
	if ((buf = malloc(KEY_FILE_MAX)) == NULL) {
		free(s);
		return hwg_error_set(err, HWG_E_NOMEM, "out of memory");
	}
	rc = hwg_file_read_secret(pem_path, buf, KEY_FILE_MAX, &len, err);
	if (rc == 0 && (bio = BIO_new_mem_buf(buf, (int)len)) != NULL) {
		s->key = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
		BIO_free(bio);
	}
	hwg_wipe(buf, KEY_FILE_MAX);
	free(buf);
	if (rc == 0 && (s->key == NULL || (s->alg = hwg_cose_alg_for_key(s->key)) == 0))
		rc = hwg_error_set(err, HWG_E_CONFIG, "%s: not a P-256 or Ed25519 private key",
		                   pem_path);
	if (rc != 0) {
		reg_signer_free(s);
		return rc;
	}
	*out = s;
	return 0;
}

int
reg_signer_load_pkcs11(const struct reg_p11_key *key, const char *client_id,
                       struct reg_signer **out, struct hwg_error *err)
{
	struct reg_signer *s;
	int rc;

	if ((rc = signer_new(client_id, &s, err)) != 0)
		return rc;
	if ((rc = reg_hsm_open(key, "registry key", &s->p11, err)) == 0 &&
	    (rc = hwg_p11_key_find(s->p11, key->label, &s->p11_key, err)) == 0 &&
	    (s->alg = hwg_p11_key_alg(s->p11_key)) == 0)
		rc = hwg_error_set(err, HWG_E_CONFIG,
		                   "registry key \"%s\": a secret key cannot sign", key->label);
	if (rc != 0) {
		reg_signer_free(s);
		return rc;
	}
	*out = s;
	return 0;
}

void
reg_signer_free(struct reg_signer *s)
{
	if (s == NULL)
		return;
	EVP_PKEY_free(s->key);
	hwg_p11_close(s->p11); /* the key object with it */
	free(s);
}

/* The signature over tbs: ES256 signs its SHA-256 (the token takes only a digest). */
static int
signer_sign(const struct reg_signer *s, const uint8_t *tbs, size_t tbs_len,
            uint8_t sig[HWG_COSE_SIG_LEN], struct hwg_error *err)
{
	uint8_t digest[SHA256_DIGEST_LENGTH];

	if (s->p11 == NULL)
		return hwg_cose_evp_signer(s->key, s->alg, tbs, tbs_len, sig, err);
	if (s->alg == HWG_COSE_EDDSA)
		return hwg_p11_sign(s->p11, s->p11_key, tbs, tbs_len, sig, err);
	SHA256(tbs, tbs_len, digest);
	return hwg_p11_sign(s->p11, s->p11_key, digest, sizeof(digest), sig, err);
}

/* 18([<< {1: alg, 4: kid} >>, {}, payload, signature]) */
static int
sign1(const struct reg_signer *s, const struct hwg_buf *payload, struct hwg_buf *out,
      struct hwg_error *err)
{
	struct reg_cbor prot = {hwg_buf_new(128), 0}, w = {out, 0};
	uint8_t sig[HWG_COSE_SIG_LEN], *tbs = NULL, tag = 0xd2, alg = 0x26;
	size_t tbs_len = 0;
	int rc;

	if (prot.b == NULL)
		return hwg_error_set(err, HWG_E_NOMEM, "out of memory");
	alg = s->alg == HWG_COSE_EDDSA ? 0x27 : 0x26; /* -8 / -7 */
	reg_cbor_map(&prot, 2);
	reg_cbor_uint(&prot, 1);
	reg_cbor_raw(&prot, &alg, 1);
	reg_cbor_uint(&prot, 4);
	reg_cbor_bytes(&prot, (const uint8_t *)s->kid, strlen(s->kid));
	rc = prot.rc != 0 ? hwg_error_set(err, prot.rc, "protected header")
	                  : hwg_cose_sig_structure(hwg_buf_ptr(prot.b), hwg_buf_len(prot.b),
	                                           hwg_buf_ptr(payload), hwg_buf_len(payload), &tbs,
	                                           &tbs_len);
	if (rc == 0 && (rc = signer_sign(s, tbs, tbs_len, sig, err)) == 0) {
		reg_cbor_raw(&w, &tag, 1);
		reg_cbor_array(&w, 4);
		reg_cbor_bytes(&w, hwg_buf_ptr(prot.b), hwg_buf_len(prot.b));
		reg_cbor_map(&w, 0);
		reg_cbor_bytes(&w, hwg_buf_ptr(payload), hwg_buf_len(payload));
		reg_cbor_bytes(&w, sig, sizeof(sig));
		rc = w.rc != 0 ? hwg_error_set(err, w.rc, "document too large") : 0;
	}
	free(tbs);
	hwg_buf_free(prot.b);
	return rc;
}

static int
copy_out(const struct hwg_buf *b, uint8_t **out, size_t *out_len, struct hwg_error *err)
{
	if ((*out = malloc(hwg_buf_len(b))) == NULL)
		return hwg_error_set(err, HWG_E_NOMEM, "out of memory");
	memcpy(*out, hwg_buf_ptr(b), hwg_buf_len(b));
	*out_len = hwg_buf_len(b);
	return 0;
}

int
hwgw_registry_document(struct hwgw_registry *r, const struct reg_cert_request *req,
                       const struct reg_signer *signer, int64_t now_s, uint8_t **out,
                       size_t *out_len, struct hwg_error *err)
{
	struct reg_cbor people = {hwg_buf_new(DOC_MAX), 0}, payload = {hwg_buf_new(DOC_MAX), 0};
	struct hwg_buf *doc = hwg_buf_new(DOC_MAX);
	struct page *pg = NULL;
	int rc;

	if (people.b == NULL || payload.b == NULL || doc == NULL)
		rc = hwg_error_set(err, HWG_E_NOMEM, "out of memory");
	else if ((rc = with_page(r, req, &pg, NULL, 0, err)) == 0 &&
	         (rc = write_people(req, pg, &people, err)) == 0) {
		write_payload(&payload, req, people.b, now_s);
		rc = payload.rc != 0 ? hwg_error_set(err, payload.rc, "document too large")
		                     : sign1(signer, payload.b, doc, err);
		if (rc == 0)
			rc = copy_out(doc, out, out_len, err);
	}
	if (pg != NULL)
		hwg_wipe(pg, sizeof(*pg));
	free(pg);
	hwg_buf_free(people.b);
	hwg_buf_free(payload.b);
	hwg_buf_free(doc);
	return rc;
}
