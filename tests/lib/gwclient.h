/*
 * gwclient.h — the client side that the C drivers of the integration tests
 * (test_api.c, test_frontdoor.c) share, written once so that the two
 * cannot drift apart and each file holds only its own tests: the gateway
 * its shell script started (GW, GW_URL, GW_ID: the socket, the store, the
 * response key), client contexts from the keys the script made, a request
 * sent over either transport with its answer read strictly
 * (strict_cbor.h) and verified, one value or the last audit record from
 * the store, and a raw connection to the socket.  Header only, and the
 * run's gateway is in static variables (gw_dir, gw_url, gw_id, sock_path,
 * db_path, gw_pub): each test driver includes it once.
 */
#ifndef GWCLIENT_H
#define GWCLIENT_H

#include <openssl/evp.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "hwg_test.h"
#include "hwgw.h"
#include "strict_cbor.h"

static const char *gw_dir, *gw_url, *gw_id;
static char sock_path[512], db_path[512];
static EVP_PKEY *gw_pub;

enum transport { UNIX, HTTP };
static const char *const transport_names[] = {"unix", "http"};

/*
 * The gateway from the environment: GW, GW_URL, GW_ID (and need too,
 * unless NULL: a variable the driver reads itself), its socket and store
 * under GW, and its response key.  0, or 2 with the reason printed; script
 * is what runs the driver.
 */
static inline int
gw_init(const char *script, const char *need)
{
	struct hwg_error err = {0};
	char pubpath[600];

	gw_dir = getenv("GW");
	gw_url = getenv("GW_URL");
	gw_id = getenv("GW_ID");
	if (gw_dir == NULL || gw_url == NULL || gw_id == NULL ||
	    (need != NULL && getenv(need) == NULL)) {
		fprintf(stderr, "run me from %s (GW, GW_URL, GW_ID%s%s)\n", script,
		        need != NULL ? ", " : "", need != NULL ? need : "");
		return 2;
	}
	snprintf(sock_path, sizeof(sock_path), "%s/hwgw.sock", gw_dir);
	snprintf(db_path, sizeof(db_path), "%s/state/hwgw.db", gw_dir);
	snprintf(pubpath, sizeof(pubpath), "%s/hsm/gateway-response.pub.pem", gw_dir);
	if (hwgw_key_load_public(pubpath, &gw_pub, &err) != 0) {
		fprintf(stderr, "%s\n", err.message);
		return 2;
	}
	return 0;
}

/* ---------------------------------------------------------------- the store */

/* The one integer sql gives from the store (read-only), or -1. */
static inline long long
db_int(const char *sql)
{
	sqlite3 *db;
	sqlite3_stmt *st;
	long long n = -1;

	if (sqlite3_open_v2(db_path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK)
		return -1;
	sqlite3_busy_timeout(db, 5000);
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return n;
}

/* The last audit record: its result, operation, client, request hash (has_req) and seq. */
struct last_record {
	char result[64], operation[64], client[80];
	int has_req;
	uint8_t req[32];
	long long seq;
};

/* The last audit record into *r (all empty if none). */
static inline void
db_last(struct last_record *r)
{
	sqlite3 *db;
	sqlite3_stmt *st;

	memset(r, 0, sizeof(*r));
	if (sqlite3_open_v2(db_path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK)
		return;
	sqlite3_busy_timeout(db, 5000);
	if (sqlite3_prepare_v2(db,
	                       "SELECT result, operation, client, req, seq FROM audit "
	                       "ORDER BY seq DESC LIMIT 1",
	                       -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW) {
		snprintf(r->result, sizeof(r->result), "%s", sqlite3_column_text(st, 0));
		snprintf(r->operation, sizeof(r->operation), "%s", sqlite3_column_text(st, 1));
		snprintf(r->client, sizeof(r->client), "%s", sqlite3_column_text(st, 2));
		r->has_req =
		    sqlite3_column_type(st, 3) == SQLITE_BLOB && sqlite3_column_bytes(st, 3) == 32;
		if (r->has_req)
			memcpy(r->req, sqlite3_column_blob(st, 3), 32);
		r->seq = sqlite3_column_int64(st, 4);
	}
	sqlite3_finalize(st);
	sqlite3_close(db);
}

/* ---------------------------------------------------------------- clients */

/* GW/keys/name.key (private_key) or .pub; exits 2 if it cannot be loaded. */
static inline EVP_PKEY *
load_key(const char *name, int private_key)
{
	char path[600];
	EVP_PKEY *k = NULL;
	struct hwg_error err = {0};

	snprintf(path, sizeof(path), "%s/keys/%s.%s", gw_dir, name, private_key ? "key" : "pub");
	if ((private_key ? hwgw_key_load_private(path, &k, &err)
	                 : hwgw_key_load_public(path, &k, &err)) != 0) {
		fprintf(stderr, "cannot load %s: %s\n", path, err.message);
		exit(2);
	}
	return k;
}

/* A context for client signing with keyname's private key, trusting gw_pub; exits 2 on failure. */
static inline struct hwgw_ctx *
ctx_for(const char *client, const char *keyname)
{
	EVP_PKEY *k = load_key(keyname, 1);
	struct hwgw_ctx *c = NULL;
	struct hwg_error err = {0};

	if (hwgw_ctx_new(client, gw_id, k, gw_pub, &c, &err) != 0) {
		fprintf(stderr, "%s: %s\n", client, err.message);
		exit(2);
	}
	EVP_PKEY_free(k);
	return c;
}

/* ---------------------------------------------------------------- answers */

/*
 * An answer: read strictly, then verified by c against req (NULL: the zero
 * bytes) into *r.  0; -1, the current test failed, if either refuses it.
 */
static inline int
check_answer(const uint8_t *req, size_t req_len, const uint8_t *body, size_t len,
             struct hwgw_ctx *c, struct hwgw_response *r)
{
	struct hwg_error err = {0};
	const char *why = NULL;

	memset(r, 0, sizeof(*r));
	if (strict_answer(body, len, &why) != 0) {
		fprintf(stderr, "  a strict reader refuses the answer: %s\n", why);
		CHECK(why == NULL);
		return -1;
	}
	if (hwgw_response_verify(c, req, req_len, body, len, r, &err) != 0) {
		fprintf(stderr, "  answer does not verify: %s\n", err.message);
		CHECK(err.code == 0);
		return -1;
	}
	return 0;
}

/*
 * Send the bytes req over t (url_op: the operation in the HTTP URL; unused
 * over the socket) and check the answer as c's (check_answer) into *r;
 * *status gets the HTTP status (status may be NULL).  0 if a verified
 * answer came back.
 */
static inline int
send_req(enum transport t, const char *url_op, const uint8_t *req, size_t len, struct hwgw_ctx *c,
         struct hwgw_response *r, long *status)
{
	uint8_t *body = NULL;
	size_t body_len = 0;
	struct hwg_error err = {0};
	int rc;

	memset(r, 0, sizeof(*r));
	if (status != NULL)
		*status = 0;
	rc = t == UNIX ? hwgw_send_unix(sock_path, req, len, &body, &body_len, &err)
	               : hwgw_send_http(gw_url, url_op, req, len, &body, &body_len, status, &err);
	if (rc != 0) {
		fprintf(stderr, "  send over %s: %s\n", transport_names[t], err.message);
		return rc;
	}
	rc = check_answer(req, len, body, body_len, c, r);
	free(body);
	return rc;
}

/* ---------------------------------------------------------------- raw socket */

/* A connection to the gateway's Unix socket, or -1. */
static inline int
unix_connect(void)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	memcpy(sa.sun_path, sock_path, strlen(sock_path));
	if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

#endif
