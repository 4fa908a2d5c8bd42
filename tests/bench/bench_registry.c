/*
 * bench_registry.c — the register at a city's size: N synthetic residents
 * (hwgw-registry seed), on the engine URI names, and against a bare
 * baseline on the same engine in the same run:
 *  1. five-fact search (name and birth date) p50/p99 against the bare
 *     indexed query the search comes down to (SELECT ... WHERE name = ?
 *     AND birth = ?): the ratio is what the rules, the LIKE escaping and
 *     the row copying add;
 *  2. a certificate document built and signed (juminhyo for the person:
 *     the rules, one snapshot, the digests, a P-256 COSE_Sign1) p50/p99,
 *     against the same bare indexed query;
 *  3. changes with their notification (an in-town move: the sequence
 *     number, the logic checks, a new version, the index row, the outbox,
 *     one transaction each) per second, against a bare one-row insert in
 *     its own transaction.
 * Prints BENCH lines (name, value, unit, ratio to the baseline), as the
 * other benchmarks do; never pass/fail.
 *
 * Usage: bench_registry [URI [N [QUERIES]]]
 *   URI sqlite:PATH (default: a file in a temporary folder) or postgres:CONNINFO;
 *   N residents (default 300000), QUERIES per measure (default 2000).
 */
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "hwg_time.h"
#include "hwgw_registry.h"
#include "reg_internal.h"

#define SAMPLE_MAX 20000

struct sample {
	char code[12], name[192], birth[11];
};

struct bench {
	struct hwgw_registry *r;
	struct reg_signer *signer;
	struct sample *s;
	size_t n;
	const char *engine;
	char dir[64];
};

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* p50 and p99 of n timings (sorted in place), in ms. */
static void
percentiles(double *t, size_t n, double *p50, double *p99)
{
	qsort(t, n, sizeof(*t), cmp_double);
	*p50 = t[n / 2] * 1000;
	*p99 = t[n * 99 / 100] * 1000;
}

/* ------------------------------------------------------------- setup */

static int
write_keys(struct bench *b, char *mn_key, char *pem, size_t n)
{
	EVP_PKEY *k = EVP_EC_gen("P-256");
	FILE *f;

	snprintf(mn_key, n, "%s/mn.key", b->dir);
	snprintf(pem, n, "%s/registry.pem", b->dir);
	if (k == NULL || (f = fopen(mn_key, "w")) == NULL)
		return -1;
	fputs("00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\n", f);
	fclose(f);
	chmod(mn_key, 0600);
	if ((f = fopen(pem, "w")) == NULL)
		return -1;
	PEM_write_PrivateKey(f, k, NULL, NULL, 0, NULL, NULL);
	fclose(f);
	chmod(pem, 0600);
	EVP_PKEY_free(k);
	return 0;
}

static int
sample_row(void *arg, int ncols, const char *const *v)
{
	struct bench *b = arg;
	struct sample *s = &b->s[b->n];

	if (ncols != 3 || b->n == SAMPLE_MAX)
		return 0;
	snprintf(s->code, sizeof(s->code), "%s", v[0]);
	snprintf(s->name, sizeof(s->name), "%s", v[1]);
	snprintf(s->birth, sizeof(s->birth), "%s", v[2]);
	b->n++;
	return 0;
}

/* Residents spread over the register (every k-th code), free of DV measures and flags. */
static int
take_sample(struct bench *b, long residents, size_t want, struct hwg_error *err)
{
	char sql[512];
	long step = residents / (long)want > 1 ? residents / (long)want : 1;

	snprintf(sql, sizeof(sql),
	         "SELECT r.resident_code, r.name, r.birth FROM residents r JOIN record_versions v"
	         " ON v.resident_code = r.resident_code AND v.version = r.version"
	         " WHERE v.cert_control = 0 AND v.wide_control = 0 AND r.status = 'active'"
	         " AND NOT EXISTS (SELECT 1 FROM dv_measures d WHERE d.resident_code ="
	         " r.resident_code) AND CAST(substr(r.resident_code, 2, 9) AS BIGINT) %% %ld = 0"
	         " ORDER BY r.resident_code LIMIT %zu",
	         step, want);
	return reg_db_query(b->r->db, sql, 0, NULL, sample_row, b, NULL, err);
}

static int
setup(struct bench *b, const char *uri, long residents, size_t queries)
{
	char mn_key[128], pem[128], u[600];
	struct reg_seed_stats st;
	struct hwg_error err = {0};
	double t0;

	snprintf(b->dir, sizeof(b->dir), "/tmp/hwgw-bench-reg.XXXXXX");
	if (mkdtemp(b->dir) == NULL || write_keys(b, mn_key, pem, sizeof(mn_key)) != 0)
		return -1;
	if (uri == NULL)
		snprintf(u, sizeof(u), "sqlite:%s/register.db", b->dir);
	else
		snprintf(u, sizeof(u), "%s", uri);
	if (hwgw_registry_open(u, mn_key, &b->r, &err) != 0 ||
	    reg_signer_load(pem, "registry-bench", &b->signer, &err) != 0)
		goto fail;
	b->engine = hwgw_registry_engine(b->r);
	t0 = hwg_mono_seconds();
	if (hwgw_registry_seed(b->r, residents, 2025, "2025-04-01", &st, &err) != 0)
		goto fail;
	printf("BENCH registry_%s_seed_%ld %.1f s (%ld households, %.0f residents/s)\n", b->engine,
	       residents, hwg_mono_seconds() - t0, st.households,
	       (double)residents / (hwg_mono_seconds() - t0));
	if ((b->s = calloc(SAMPLE_MAX, sizeof(*b->s))) == NULL ||
	    take_sample(b, residents, queries, &err) != 0 || b->n == 0)
		goto fail;
	return 0;
fail:
	fprintf(stderr, "bench_registry: %s\n", err.message[0] ? err.message : "setup failed");
	return -1;
}

/* ----------------------------------------------------------- measures */

static int
no_row(void *arg, int ncols, const char *const *v)
{
	(void)ncols;
	(void)v;
	(*(long *)arg)++;
	return 0;
}

/* The bare indexed query, per sample: its timings in t[]. */
static void
bare_query(struct bench *b, double *t)
{
	struct hwg_error err = {0};
	long rows = 0;

	for (size_t i = 0; i < b->n; i++) {
		const char *p[2] = {b->s[i].name, b->s[i].birth};
		double t0 = hwg_mono_seconds();
		reg_db_query(b->r->db,
		             "SELECT resident_code, version, status FROM residents WHERE name = ?"
		             " AND birth = ?",
		             2, p, no_row, &rows, NULL, &err);
		t[i] = hwg_mono_seconds() - t0;
	}
}

static void
search(struct bench *b, double *t, long *found)
{
	struct reg_hit hits[REG_SEARCH_MAX];
	struct hwg_error err = {0};
	size_t n;

	*found = 0;
	for (size_t i = 0; i < b->n; i++) {
		struct reg_query q = {b->s[i].name, NULL, NULL, NULL, b->s[i].birth};
		double t0 = hwg_mono_seconds();
		if (hwgw_registry_search(b->r, &q, hits, REG_SEARCH_MAX, &n, &err) == 0)
			*found += n > 0;
		t[i] = hwg_mono_seconds() - t0;
	}
}

static void
documents(struct bench *b, double *t, size_t *ok)
{
	struct hwg_error err = {0};
	uint8_t *doc;
	size_t len;

	*ok = 0;
	for (size_t i = 0; i < b->n; i++) {
		struct reg_cert_request q = {"juminhyo",
		                             b->s[i].code,
		                             0,
		                             0,
		                             0,
		                             "gw-bench",
		                             "2025-04-01",
		                             {REG_REQ_SELF, b->s[i].code, "本人", NULL}};
		double t0 = hwg_mono_seconds();
		doc = NULL;
		if (hwgw_registry_document(b->r, &q, b->signer, 1743465600, &doc, &len, &err) == 0)
			t[(*ok)++] = hwg_mono_seconds() - t0;
		free(doc);
	}
}

/* In-town moves, one per sampled resident (up to n): changes per second. */
static double
changes(struct bench *b, size_t n, long *failed)
{
	static const struct reg_actor who = {"bench", "bench", "2025-04-02"};
	struct hwg_error err = {0};
	struct reg_person p;
	double t0 = hwg_mono_seconds(), busy = 0;

	*failed = 0;
	for (size_t i = 0; i < n && i < b->n; i++) {
		if (hwgw_registry_get(b->r, b->s[i].code, 0, &p, &err) != 0) {
			(*failed)++;
			continue;
		}
		snprintf(p.address, sizeof(p.address), "東雲県若葉市本町9丁目%zu番1号", i);
		t0 = hwg_mono_seconds();
		if (hwgw_registry_move_within(b->r, &p, &who, NULL, &err) != 0)
			(*failed)++;
		busy += hwg_mono_seconds() - t0;
	}
	return (double)(n < b->n ? n : b->n) / busy;
}

/* One-row inserts, each in its own write transaction: inserts per second. */
static double
bare_inserts(struct bench *b, size_t n)
{
	struct hwg_error err = {0};
	char k[24];
	const char *p[2] = {k, "東雲県若葉市本町9丁目1番1号"};
	double t0;

	b->r->db->ops->exec(
	    b->r->db, "CREATE TABLE IF NOT EXISTS bench_bare (k BIGINT PRIMARY KEY, v TEXT)", &err);
	t0 = hwg_mono_seconds();
	for (size_t i = 0; i < n; i++) {
		snprintf(k, sizeof(k), "%zu", i);
		reg_db_begin(b->r->db, REG_TX_WRITE, &err);
		reg_db_query(b->r->db, "INSERT INTO bench_bare (k, v) VALUES (?, ?)", 2, p, NULL,
		             NULL, NULL, &err);
		reg_db_commit(b->r->db, &err);
	}
	return (double)n / (hwg_mono_seconds() - t0);
}

static void
report(struct bench *b)
{
	double *tb = calloc(b->n, sizeof(double)), *ts = calloc(b->n, sizeof(double));
	double *td = calloc(b->n, sizeof(double)), b50, b99, s50, s99, d50, d99, cps, ips;
	long found, failed;
	size_t ok, nchanges = b->n < 1000 ? b->n : 1000;

	if (tb == NULL || ts == NULL || td == NULL)
		exit(1);
	bare_query(b, tb); /* warm the cache for both */
	search(b, ts, &found);
	bare_query(b, tb);
	percentiles(tb, b->n, &b50, &b99);
	percentiles(ts, b->n, &s50, &s99);
	printf("BENCH registry_%s_bare_query_p50 %.3f ms ratio=1.00 (p99 %.3f ms, %zu queries)\n",
	       b->engine, b50, b99, b->n);
	printf("BENCH registry_%s_search_p50 %.3f ms ratio=%.2f (p99 %.3f ms ratio=%.2f; %ld of "
	       "%zu found)\n",
	       b->engine, s50, s50 / b50, s99, s99 / b99, found, b->n);
	documents(b, td, &ok);
	if (ok > 0) {
		percentiles(td, ok, &d50, &d99);
		printf("BENCH registry_%s_document_p50 %.3f ms ratio=%.2f (p99 %.3f ms; %zu built "
		       "and signed, against the bare query)\n",
		       b->engine, d50, d50 / b50, d99, ok);
	}
	ips = bare_inserts(b, nchanges);
	cps = changes(b, nchanges, &failed);
	printf("BENCH registry_%s_bare_insert %.0f tx/s ratio=1.00\n", b->engine, ips);
	printf("BENCH registry_%s_change %.0f changes/s ratio=%.2f (an in-town move with its "
	       "notice; %ld of %zu refused)\n",
	       b->engine, cps, cps / ips, failed, nchanges);
	free(tb);
	free(ts);
	free(td);
}

int
main(int argc, char **argv)
{
	const char *uri = argc > 1 && strcmp(argv[1], "-") != 0 ? argv[1] : NULL;
	long residents = argc > 2 ? atol(argv[2]) : 300000;
	size_t queries = argc > 3 ? (size_t)atol(argv[3]) : 2000;
	struct bench b = {0};
	char cmd[128];

	if (residents < 1 || queries < 1 || queries > SAMPLE_MAX) {
		fprintf(stderr, "usage: bench_registry [URI|- [N [QUERIES]]]\n");
		return 2;
	}
	if (setup(&b, uri, residents, queries) != 0)
		return 1;
	report(&b);
	reg_signer_free(b.signer);
	hwgw_registry_close(b.r);
	free(b.s);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", b.dir);
	return system(cmd) == 0 ? 0 : 1;
}
