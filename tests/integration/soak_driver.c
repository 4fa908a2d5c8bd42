/*
 * soak_driver.c — issue 5's soak: W warm-up requests, then N mixed
 * signed requests, from C concurrent clients against a running hwgwd
 * (test_soak.sh injects the faults meanwhile), then two verdicts:
 *   - memory: the privileged hwgwd's VmRSS, sampled every SAMPLE_EVERY
 *     requests, must stay within GROWTH_LIMIT_KIB of its value at the end
 *     of the warm-up for all N.  The warm-up is what SQLite's page cache
 *     takes to fill (its default cap, 2 MiB, is reached after about 8,000
 *     requests of this mix: the series printed shows it level off);
 *   - audit: every answer a client got (a result or an error code) has
 *     its audit record: for each (client, operation, result) the audit
 *     holds at least as many records as answers came back, and the records
 *     beyond the answers are no more than the requests left unanswered
 *     (a net process killed after it forwarded one: that request ran and
 *     was audited, its answer lost with the process).
 * Prints "SOAK ..." lines (figures for the closing note); exit 0 when
 * both verdicts hold, 1 otherwise, 2 on a setup error.
 *
 * Environment: GW (the test directory: keys/, sessions/, hwgw.sock),
 * GW_ID, GW_URL, GW_PID (the privileged hwgwd), SOAK_DB (the store);
 * SOAK_MEMORY=report prints the memory figures without judging them
 * (under ASan or valgrind the RSS is the tool's: its quarantine and
 * shadow memory grow by design).
 * Clients soak0..soak<C-1>: 0..C/2-1 counter (with an operator session
 * in sessions/soakI), then auditor, then maintenance.
 */
#include <errno.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hwg_file.h"
#include "hwgw.h"

#define MAX_CLIENTS 32
#define SAMPLE_EVERY 250
#define GROWTH_LIMIT_KIB 512
#define MAX_TALLY 64

static const char *gw_dir, *gw_url, *gw_id;
static char sock_path[512];
static EVP_PKEY *gw_pub;
static long gw_pid;
static int total_requests, warmup_requests;
static atomic_int next_request;

struct tally {
	char op[32], result[48];
	int count;
};

struct client {
	int index;
	char id[16];
	int counter; /* has an operator session */
	uint8_t session[HWGW_SESSION_MAX];
	size_t session_len;
	struct hwgw_ctx *ctx;
	unsigned seed;
	struct tally tally[MAX_TALLY];
	int n_tally, answered, unanswered;
};

/* ---------------------------------------------------------------- memory */

static long rss_samples[100000 / SAMPLE_EVERY + 2];
static atomic_int n_samples;

static long
rss_kib(void)
{
	char path[64], line[256];
	long kib = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%ld/status", gw_pid);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "VmRSS: %ld kB", &kib) == 1)
			break;
	fclose(f);
	return kib;
}

/* ---------------------------------------------------------------- requests */

static void
count(struct client *c, const char *op, const char *result)
{
	for (int i = 0; i < c->n_tally; i++)
		if (strcmp(c->tally[i].op, op) == 0 && strcmp(c->tally[i].result, result) == 0) {
			c->tally[i].count++;
			return;
		}
	if (c->n_tally == MAX_TALLY)
		return;
	snprintf(c->tally[c->n_tally].op, sizeof(c->tally[0].op), "%s", op);
	snprintf(c->tally[c->n_tally].result, sizeof(c->tally[0].result), "%s", result);
	c->tally[c->n_tally++].count = 1;
}

/* Send req; an authentic answer is counted under op, anything else as unanswered. */
static void
exchange(struct client *c, const char *op, const uint8_t *req, size_t len, int http)
{
	struct hwg_error err = {0};
	struct hwgw_response r;
	uint8_t *resp = NULL;
	size_t resp_len = 0;
	int rc;

	rc = http ? hwgw_send_http(gw_url, op, req, len, &resp, &resp_len, NULL, &err)
	          : hwgw_send_unix(sock_path, req, len, &resp, &resp_len, &err);
	memset(&r, 0, sizeof(r));
	if (rc == 0 && hwgw_response_verify(c->ctx, req, len, resp, resp_len, &r, &err) == 0) {
		c->answered++;
		count(c, op, r.result != NULL ? "ok" : r.error_code);
	} else {
		c->unanswered++;
	}
	hwgw_response_clear(&r);
	free(resp);
}

static cbor_item_t *
reader_args(struct client *c, int with_pin)
{
	int slot = (int)(rand_r(&c->seed) % 2);
	cbor_item_t *m = cbor_new_definite_map(with_pin ? 2 : 1);
	char reader[16];

	snprintf(reader, sizeof(reader), "hwsim 00 0%d", slot);
	(void)cbor_map_add(m, (struct cbor_pair){cbor_move(cbor_build_string("reader")),
	                                         cbor_move(cbor_build_string(reader))});
	if (with_pin)
		(void)cbor_map_add(
		    m, (struct cbor_pair){cbor_move(cbor_build_string("pin")),
		                          cbor_move(cbor_build_string(slot ? "4321" : "1234"))});
	return m;
}

static cbor_item_t *
limit_args(void)
{
	cbor_item_t *m = cbor_new_definite_map(1);

	(void)cbor_map_add(m, (struct cbor_pair){cbor_move(cbor_build_string("limit")),
	                                         cbor_move(cbor_build_uint8(5))});
	return m;
}

enum tamper { AS_IS, BAD_SIGNATURE, REPLAYED };

static void
one(struct client *c, const char *op, cbor_item_t *args, enum tamper t, int http)
{
	struct hwgw_request_opts o = {.session = c->counter ? c->session : NULL,
	                              .session_len = c->counter ? c->session_len : 0};
	struct hwg_error err = {0};
	uint8_t *req = NULL;
	size_t len = 0;

	if (hwgw_request_build(c->ctx, op, args, &o, &req, &len, &err) != 0) {
		fprintf(stderr, "soak: %s: %s\n", op, err.message);
		c->unanswered++;
	} else {
		if (t == BAD_SIGNATURE)
			req[len - 1] ^= 0x01; /* the signature's last byte */
		exchange(c, op, req, len, http);
		if (t == REPLAYED)
			exchange(c, op, req, len, http);
	}
	free(req);
	if (args != NULL)
		cbor_decref(&args);
}

/* One request of the mix (percentages): most cheap, some card work, some refusals. */
static void
mixed(struct client *c)
{
	int r = (int)(rand_r(&c->seed) % 100);

	if (r < 30)
		one(c, "gw.info", NULL, AS_IS, 0);
	else if (r < 45)
		one(c, "gw.info", NULL, AS_IS, 1);
	else if (r < 55)
		one(c, "device.list", NULL, AS_IS, 0);
	else if (r < 65)
		one(c, "card.status", reader_args(c, 0), AS_IS, 0);
	else if (r < 73)
		one(c, "card.read_info", reader_args(c, 1), AS_IS, 0);
	else if (r < 80)
		one(c, "audit.query", limit_args(), AS_IS, r % 2);
	else if (r < 85)
		one(c, "gw.info", NULL, BAD_SIGNATURE, 0);
	else if (r < 90)
		one(c, "device.list", NULL, REPLAYED, 0);
	else if (r < 95)
		one(c, "no.such_op", NULL, AS_IS, 0);
	else
		one(c, "operator.list", NULL, AS_IS, 1);
}

static void *
client_main(void *arg)
{
	struct client *c = arg;
	int n;

	while ((n = atomic_fetch_add(&next_request, 1)) < total_requests) {
		mixed(c);
		if ((n + 1) % SAMPLE_EVERY == 0) {
			int k = atomic_fetch_add(&n_samples, 1);

			rss_samples[k] = rss_kib();
		}
	}
	return NULL;
}

/* ---------------------------------------------------------------- setup */

static int
client_init(struct client *c, int i, int n_clients)
{
	char path[700];
	EVP_PKEY *k = NULL;
	struct hwg_error err = {0};
	uint8_t *data = NULL;
	size_t len = 0;
	int rc;

	memset(c, 0, sizeof(*c));
	c->index = i;
	c->seed = 0x50a4u + (unsigned)i;
	snprintf(c->id, sizeof(c->id), "soak%d", i);
	c->counter = i < n_clients / 2;
	snprintf(path, sizeof(path), "%s/keys/%s.key", gw_dir, c->id);
	if (hwgw_key_load_private(path, &k, &err) != 0 ||
	    hwgw_ctx_new(c->id, gw_id, k, gw_pub, &c->ctx, &err) != 0)
		goto fail;
	EVP_PKEY_free(k);
	if (!c->counter)
		return 0;
	snprintf(path, sizeof(path), "%s/sessions/%s", gw_dir, c->id);
	if (hwg_file_read(path, 4096, &data, &len, &err) != 0)
		goto fail;
	rc = hwgw_session_parse(data, len, c->session, &c->session_len, &err);
	free(data);
	if (rc == 0)
		return 0;
fail:
	EVP_PKEY_free(k);
	fprintf(stderr, "soak: %s: %s\n", c->id, err.message);
	return -1;
}

/* ---------------------------------------------------------------- verdicts */

static int
memory_verdict(void)
{
	int n = atomic_load(&n_samples), warm = warmup_requests / SAMPLE_EVERY - 1;
	long hi = -1, growth;

	if (warm < 0)
		warm = 0;
	if (n < warm + 4 || rss_samples[warm] <= 0 || rss_samples[n - 1] <= 0) {
		printf("SOAK memory: too few samples (%d)\n", n);
		return -1;
	}
	printf("SOAK memory series_kib:");
	for (int i = 0; i < n; i++)
		printf(" %ld", rss_samples[i]);
	printf("\n");
	for (int i = warm; i < n; i++)
		hi = rss_samples[i] > hi ? rss_samples[i] : hi;
	growth = hi - rss_samples[warm];
	printf("SOAK memory rss_kib: first=%ld after_warmup=%ld (request %d) last=%ld max=%ld "
	       "growth_after_warmup=%ld (max - after_warmup) limit=%d samples=%d\n",
	       rss_samples[0], rss_samples[warm], (warm + 1) * SAMPLE_EVERY, rss_samples[n - 1], hi,
	       growth, GROWTH_LIMIT_KIB, n);
	if (getenv("SOAK_MEMORY") != NULL && strcmp(getenv("SOAK_MEMORY"), "report") == 0) {
		printf("SOAK memory: reported, not judged (SOAK_MEMORY=report)\n");
		return 0;
	}
	return growth <= GROWTH_LIMIT_KIB ? 0 : -1;
}

static int
audit_count(sqlite3 *db, int64_t mark, const char *client, const char *op, const char *result)
{
	sqlite3_stmt *st = NULL;
	int n = -1;

	if (sqlite3_prepare_v2(db,
	                       "SELECT count(*) FROM audit WHERE seq > ? AND client = ? AND "
	                       "operation = ? AND result = ?",
	                       -1, &st, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_int64(st, 1, mark);
	sqlite3_bind_text(st, 2, client, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, op, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, result, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return n;
}

static int
audit_total(sqlite3 *db, int64_t mark)
{
	sqlite3_stmt *st = NULL;
	int n = -1;

	if (sqlite3_prepare_v2(db,
	                       "SELECT count(*) FROM audit WHERE seq > ? AND client LIKE 'soak%'",
	                       -1, &st, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_int64(st, 1, mark);
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return n;
}

static int
audit_verdict(const char *db_path, int64_t mark, struct client *cl, int n_clients)
{
	int answered = 0, unanswered = 0, lost = 0, records, bad = 0;
	sqlite3 *db = NULL;

	if (sqlite3_open_v2(db_path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
		printf("SOAK audit: cannot open %s\n", db_path);
		sqlite3_close(db);
		return -1;
	}
	sqlite3_busy_timeout(db, 5000);
	for (int i = 0; i < n_clients; i++) {
		answered += cl[i].answered;
		unanswered += cl[i].unanswered;
		for (int j = 0; j < cl[i].n_tally; j++) {
			const struct tally *t = &cl[i].tally[j];
			int have = audit_count(db, mark, cl[i].id, t->op, t->result);

			if (have < t->count) {
				printf("SOAK lost: %s %s %s answered=%d records=%d\n", cl[i].id,
				       t->op, t->result, t->count, have);
				lost += t->count - (have < 0 ? 0 : have);
			}
		}
	}
	records = audit_total(db, mark);
	sqlite3_close(db);
	bad = lost != 0 || records < answered || records - answered > unanswered;
	printf("SOAK audit: answered=%d unanswered=%d records=%d lost=%d extra=%d\n", answered,
	       unanswered, records, lost, records - answered);
	return bad ? -1 : 0;
}

static void
print_mix(struct client *cl, int n_clients)
{
	struct client all = {0};

	for (int i = 0; i < n_clients; i++)
		for (int j = 0; j < cl[i].n_tally; j++)
			for (int k = 0; k < cl[i].tally[j].count; k++)
				count(&all, cl[i].tally[j].op, cl[i].tally[j].result);
	for (int j = 0; j < all.n_tally; j++)
		printf("SOAK answers %s %s %d\n", all.tally[j].op, all.tally[j].result,
		       all.tally[j].count);
}

int
main(int argc, char **argv)
{
	static struct client cl[MAX_CLIENTS];
	pthread_t th[MAX_CLIENTS];
	struct hwg_error err = {0};
	char pub[600];
	const char *db_path = getenv("SOAK_DB");
	int n_clients, rc = 0;
	int64_t mark;

	if (argc != 5 || (warmup_requests = atoi(argv[1])) < 0 ||
	    (total_requests = atoi(argv[2])) <= 0 || total_requests > 100000 - warmup_requests ||
	    (n_clients = atoi(argv[3])) <= 0 || n_clients > MAX_CLIENTS ||
	    (mark = strtoll(argv[4], NULL, 10)) < 0) {
		fprintf(stderr,
		        "usage: soak_driver WARMUP REQUESTS CLIENTS(1-%d) AUDIT_MARK "
		        "(WARMUP + REQUESTS at most 100000)\n",
		        MAX_CLIENTS);
		return 2;
	}
	total_requests += warmup_requests;
	gw_dir = getenv("GW");
	gw_url = getenv("GW_URL");
	gw_id = getenv("GW_ID");
	gw_pid = getenv("GW_PID") != NULL ? atol(getenv("GW_PID")) : 0;
	if (gw_dir == NULL || gw_url == NULL || gw_id == NULL || gw_pid <= 0 || db_path == NULL) {
		fprintf(stderr, "soak: GW, GW_URL, GW_ID, GW_PID and SOAK_DB must be set\n");
		return 2;
	}
	snprintf(sock_path, sizeof(sock_path), "%s/hwgw.sock", gw_dir);
	snprintf(pub, sizeof(pub), "%s/hsm/gateway-response.pub.pem", gw_dir);
	if (hwgw_key_load_public(pub, &gw_pub, &err) != 0) {
		fprintf(stderr, "soak: %s\n", err.message);
		return 2;
	}
	for (int i = 0; i < n_clients; i++)
		if (client_init(&cl[i], i, n_clients) != 0)
			return 2;
	for (int i = 0; i < n_clients; i++)
		if (pthread_create(&th[i], NULL, client_main, &cl[i]) != 0)
			return 2;
	for (int i = 0; i < n_clients; i++)
		pthread_join(th[i], NULL);
	printf("SOAK requests=%d (warm-up %d, then %d) clients=%d\n", total_requests,
	       warmup_requests, total_requests - warmup_requests, n_clients);
	print_mix(cl, n_clients);
	if (memory_verdict() != 0)
		rc = 1;
	if (audit_verdict(db_path, mark, cl, n_clients) != 0)
		rc = 1;
	for (int i = 0; i < n_clients; i++)
		hwgw_ctx_free(cl[i].ctx);
	EVP_PKEY_free(gw_pub);
	return rc;
}
