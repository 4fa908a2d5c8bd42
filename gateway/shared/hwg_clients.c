/*
 * hwg_clients.c — see hwg_clients.h.
 */
#include "hwg_clients.h"

#include <openssl/x509.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

struct hwg_clients {
	pthread_rwlock_t lock;
	struct hwg_client_entry *v;
	size_t n;
};

struct hwg_clients *
hwg_clients_new(void)
{
	struct hwg_clients *cs = calloc(1, sizeof(*cs));

	if (cs != NULL)
		pthread_rwlock_init(&cs->lock, NULL);
	return cs;
}

void
hwg_client_entry_clear(struct hwg_client_entry *e)
{
	EVP_PKEY_free(e->key);
	memset(e, 0, sizeof(*e));
}

static void
table_free(struct hwg_client_entry *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		hwg_client_entry_clear(&v[i]);
	free(v);
}

void
hwg_clients_free(struct hwg_clients *cs)
{
	if (cs == NULL)
		return;
	table_free(cs->v, cs->n);
	pthread_rwlock_destroy(&cs->lock);
	free(cs);
}

struct load_ctx {
	struct hwg_client_entry *v;
	size_t n, cap;
	int failed;
};

static int
load_one(void *arg, const struct hwg_client_rec *c)
{
	struct load_ctx *lc = arg;
	struct hwg_client_entry *e;
	const unsigned char *p = c->pubkey_der;

	if (lc->n == lc->cap) {
		size_t ncap = lc->cap ? lc->cap * 2 : 16;
		struct hwg_client_entry *nv = realloc(lc->v, ncap * sizeof(*nv));
		if (nv == NULL) {
			lc->failed = HWG_E_NOMEM;
			return 1;
		}
		lc->v = nv;
		lc->cap = ncap;
	}
	e = &lc->v[lc->n];
	memset(e, 0, sizeof(*e));
	if ((e->key = d2i_PUBKEY(NULL, &p, (long)c->pubkey_len)) == NULL) {
		lc->failed = HWG_E_STORE;
		return 1;
	}
	memcpy(e->id, c->id, sizeof(e->id));
	e->role = c->role;
	memcpy(e->uids, c->uids, sizeof(e->uids));
	e->n_uids = c->n_uids;
	lc->n++;
	return 0;
}

int
hwg_clients_load(struct hwg_clients *cs, hwg_client_walk_fn walk, void *src, size_t *count,
                 struct hwg_error *err)
{
	struct load_ctx lc = {0};
	struct hwg_client_entry *old;
	size_t old_n;
	int rc;

	rc = walk(src, load_one, &lc, err);
	if (rc == 0 && lc.failed != 0)
		rc = hwg_error_set(err, lc.failed, "cannot load client %zu from the store", lc.n);
	if (rc != 0) {
		table_free(lc.v, lc.n);
		return rc;
	}
	pthread_rwlock_wrlock(&cs->lock);
	old = cs->v;
	old_n = cs->n;
	cs->v = lc.v;
	cs->n = lc.n;
	pthread_rwlock_unlock(&cs->lock);
	table_free(old, old_n);
	if (count != NULL)
		*count = lc.n;
	return 0;
}

static int
export_one(const struct hwg_client_entry *e, struct hwg_buf *b)
{
	unsigned char *der = NULL;
	int n = i2d_PUBKEY(e->key, &der), rc;

	if (n <= 0)
		return HWG_E_NOMEM;
	rc = hwg_buf_put_string(b, e->id, strlen(e->id));
	rc = rc != 0 ? rc : hwg_buf_put_u8(b, (uint8_t)e->role);
	rc = rc != 0 ? rc : hwg_buf_put_string(b, der, (size_t)n);
	rc = rc != 0 ? rc : hwg_buf_put_u32be(b, (uint32_t)e->n_uids);
	for (size_t i = 0; rc == 0 && i < e->n_uids; i++)
		rc = hwg_buf_put_u32be(b, e->uids[i]);
	OPENSSL_free(der);
	return rc;
}

int
hwg_clients_export(struct hwg_clients *cs, struct hwg_buf *b)
{
	int rc;

	pthread_rwlock_rdlock(&cs->lock);
	rc = hwg_buf_put_u32be(b, (uint32_t)cs->n);
	for (size_t i = 0; rc == 0 && i < cs->n; i++)
		rc = export_one(&cs->v[i], b);
	pthread_rwlock_unlock(&cs->lock);
	return rc;
}

static int
import_one(struct hwg_buf *b, struct hwg_client_entry *e)
{
	const uint8_t *id, *der;
	size_t id_len, der_len;
	uint32_t n_uids;
	uint8_t role;

	memset(e, 0, sizeof(*e));
	if (hwg_buf_get_string_view(b, HWG_CLIENT_ID_MAX, &id, &id_len) != 0 || id_len == 0 ||
	    memchr(id, 0, id_len) != NULL || hwg_buf_get_u8(b, &role) != 0 ||
	    hwg_buf_get_string_view(b, 4096, &der, &der_len) != 0 ||
	    hwg_buf_get_u32be(b, &n_uids) != 0 || n_uids > HWG_CLIENT_UIDS_MAX)
		return HWG_E_BAD_ENCODING;
	memcpy(e->id, id, id_len);
	e->role = role;
	e->n_uids = n_uids;
	for (size_t i = 0; i < n_uids; i++)
		if (hwg_buf_get_u32be(b, &e->uids[i]) != 0)
			return HWG_E_BAD_ENCODING;
	if ((e->key = d2i_PUBKEY(NULL, &der, (long)der_len)) == NULL)
		return HWG_E_BAD_ENCODING;
	return 0;
}

int
hwg_clients_import(struct hwg_clients *cs, struct hwg_buf *b, size_t *count, struct hwg_error *err)
{
	struct hwg_client_entry *v, *old;
	uint32_t n;
	size_t got = 0, old_n;
	int rc = 0;

	if (hwg_buf_get_u32be(b, &n) != 0 || n > hwg_buf_len(b))
		return hwg_error_set(err, HWG_E_BAD_ENCODING, "client table: bad count");
	if ((v = calloc(n ? n : 1, sizeof(*v))) == NULL)
		return hwg_error_set(err, HWG_E_NOMEM, "out of memory");
	while (rc == 0 && got < n)
		if ((rc = import_one(b, &v[got])) == 0)
			got++;
	if (rc == 0 && hwg_buf_len(b) != 0)
		rc = HWG_E_BAD_ENCODING;
	if (rc != 0) {
		table_free(v, n); /* calloc'd: the entries not reached are empty */
		return hwg_error_set(err, rc, "client table: entry %zu malformed", got);
	}
	pthread_rwlock_wrlock(&cs->lock);
	old = cs->v;
	old_n = cs->n;
	cs->v = v;
	cs->n = n;
	pthread_rwlock_unlock(&cs->lock);
	table_free(old, old_n);
	if (count != NULL)
		*count = n;
	return 0;
}

int
hwg_clients_lookup(struct hwg_clients *cs, const char *id, struct hwg_client_entry *out)
{
	int rc = HWG_E_UNKNOWN_CLIENT;

	pthread_rwlock_rdlock(&cs->lock);
	for (size_t i = 0; i < cs->n; i++) {
		if (strcmp(cs->v[i].id, id) != 0)
			continue;
		*out = cs->v[i];
		EVP_PKEY_up_ref(out->key);
		rc = 0;
		break;
	}
	pthread_rwlock_unlock(&cs->lock);
	return rc;
}

int
hwg_client_uid_allowed(const struct hwg_client_entry *e, int64_t uid)
{
	for (size_t i = 0; i < e->n_uids; i++)
		if ((int64_t)e->uids[i] == uid)
			return 1;
	return 0;
}

int
hwg_client_id_valid(const char *id)
{
	size_t n = 0;

	if (id == NULL)
		return 0;
	for (const char *p = id; *p != '\0'; p++, n++) {
		if (n == HWG_CLIENT_ID_MAX)
			return 0;
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '.' || *p == '_' || *p == '-'))
			return 0;
	}
	return n > 0;
}

void
hwg_client_rec_clear(struct hwg_client_rec *c)
{
	if (c == NULL)
		return;
	OPENSSL_free(c->pubkey_der);
	memset(c, 0, sizeof(*c));
}
