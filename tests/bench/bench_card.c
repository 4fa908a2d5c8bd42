/*
 * bench_card.c — card.read_info through the gateway against the same APDU
 * sequence sent straight through libpcsclite to the same simulated card,
 * in the same run (one transaction per round in both, as the gateway
 * does).  The ratio is what the gateway adds: signing, checks, audit and
 * parsing.  Prints BENCH lines as bench_api.c does.
 *
 * Usage: bench_card ROUNDS READER APDU_FILE
 * APDU_FILE: one C-APDU in hex per line (the gateway's own sequence, as
 * hwsim logged it, PIN filled in).  Environment: GW, GW_ID (a client
 * "counter" with its key in $GW/keys and its operator session, which
 * card.read_info needs, in $GW/sessions/counter), the card's PIN in
 * BENCH_PIN.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <winscard.h>

#include "hwg_cbor.h"
#include "hwg_secret.h"
#include "hwg_time.h"
#include "hwgw.h"

#define MAX_APDUS 64

struct apdu {
	uint8_t b[300];
	size_t n;
};

static int
load_apdus(const char *path, struct apdu *a, int *n)
{
	FILE *f = fopen(path, "r");
	char line[700];

	*n = 0;
	if (f == NULL)
		return -1;
	while (*n < MAX_APDUS && fgets(line, sizeof(line), f) != NULL) {
		size_t len = strcspn(line, "\r\n");
		unsigned v;

		a[*n].n = 0;
		for (size_t i = 0; i + 1 < len && a[*n].n < sizeof(a[*n].b); i += 2) {
			if (sscanf(line + i, "%2x", &v) != 1)
				break;
			a[*n].b[a[*n].n++] = (uint8_t)v;
		}
		if (a[*n].n >= 4)
			(*n)++;
	}
	fclose(f);
	return *n > 0 ? 0 : -1;
}

/* One round straight through PC/SC: context, connect, transaction, APDUs. */
static int
direct_round(const char *reader, const struct apdu *a, int n)
{
	SCARDCONTEXT ctx;
	SCARDHANDLE h;
	DWORD proto, rlen;
	uint8_t r[258];
	int ok = 1;

	if (SCardEstablishContext(SCARD_SCOPE_SYSTEM, NULL, NULL, &ctx) != SCARD_S_SUCCESS)
		return -1;
	if (SCardConnect(ctx, reader, SCARD_SHARE_SHARED, SCARD_PROTOCOL_T0 | SCARD_PROTOCOL_T1, &h,
	                 &proto) != SCARD_S_SUCCESS) {
		SCardReleaseContext(ctx);
		return -1;
	}
	ok = SCardBeginTransaction(h) == SCARD_S_SUCCESS;
	for (int i = 0; ok && i < n; i++) {
		rlen = sizeof(r);
		ok = SCardTransmit(h, proto == SCARD_PROTOCOL_T0 ? SCARD_PCI_T0 : SCARD_PCI_T1,
		                   a[i].b, (DWORD)a[i].n, NULL, r, &rlen) == SCARD_S_SUCCESS &&
		     rlen >= 2 && (r[rlen - 2] == 0x90 || r[rlen - 2] == 0x63);
	}
	SCardEndTransaction(h, SCARD_LEAVE_CARD);
	SCardDisconnect(h, SCARD_LEAVE_CARD);
	SCardReleaseContext(ctx);
	return ok ? 0 : -1;
}

struct session {
	uint8_t token[HWGW_SESSION_MAX];
	size_t len;
};

/* The operator session as hwgwctl --session-out wrote it to $GW/sessions/counter. */
static int
load_session(const char *dir, struct session *s)
{
	char path[600];
	uint8_t raw[256];
	struct hwg_error err = {0};
	FILE *f;
	size_t n;
	int rc;

	snprintf(path, sizeof(path), "%s/sessions/counter", dir);
	if ((f = fopen(path, "re")) == NULL) {
		fprintf(stderr, "bench_card: %s: no operator session\n", path);
		return -1;
	}
	n = fread(raw, 1, sizeof(raw), f);
	fclose(f);
	if (n == sizeof(raw))
		rc = hwg_error_set(&err, HWG_E_INVALID, "over %zu bytes", sizeof(raw) - 1);
	else
		rc = hwgw_session_parse(raw, n, s->token, &s->len, &err);
	hwg_wipe(raw, sizeof(raw));
	if (rc != 0)
		fprintf(stderr, "bench_card: %s: not a session token: %s\n", path, err.message);
	return rc;
}

static int
gateway_round(struct hwgw_ctx *c, const char *sock, const char *reader, const char *pin,
              const struct session *s)
{
	cbor_item_t *args = cbor_new_definite_map(2);
	struct hwgw_request_opts opts = {.session = s->token, .session_len = s->len};
	struct hwgw_response r;
	struct hwg_error err = {0};
	uint8_t *req = NULL, *resp = NULL;
	size_t len = 0, resp_len = 0;
	int rc;

	hwg_cbor_map_put_text(args, "reader", reader);
	hwg_cbor_map_put_text(args, "pin", pin);
	memset(&r, 0, sizeof(r));
	rc = hwgw_request_build(c, "card.read_info", args, &opts, &req, &len, &err);
	if (rc == 0)
		rc = hwgw_send_unix(sock, req, len, &resp, &resp_len, &err);
	if (rc == 0)
		rc = hwgw_response_verify(c, req, len, resp, resp_len, &r, &err);
	if (rc == 0 && r.result == NULL) {
		fprintf(stderr, "bench_card: refused: %s: %s\n", r.error_code, r.error_message);
		rc = -1;
	}
	hwgw_response_clear(&r);
	free(req);
	free(resp);
	cbor_decref(&args);
	return rc;
}

static struct hwgw_ctx *
counter_ctx(const char *dir, const char *gw_id)
{
	char path[600];
	EVP_PKEY *k = NULL, *gw = NULL;
	struct hwgw_ctx *c = NULL;
	struct hwg_error err = {0};

	snprintf(path, sizeof(path), "%s/keys/counter.key", dir);
	if (hwgw_key_load_private(path, &k, &err) == 0) {
		snprintf(path, sizeof(path), "%s/hsm/gateway-response.pub.pem", dir);
		if (hwgw_key_load_public(path, &gw, &err) == 0)
			hwgw_ctx_new("counter", gw_id, k, gw, &c, &err);
	}
	EVP_PKEY_free(k);
	EVP_PKEY_free(gw);
	if (c == NULL)
		fprintf(stderr, "bench_card: %s\n", err.message);
	return c;
}

int
main(int argc, char **argv)
{
	static struct apdu apdus[MAX_APDUS];
	struct session sess = {0};
	const char *dir = getenv("GW"), *gw_id = getenv("GW_ID"), *pin = getenv("BENCH_PIN");
	char sock[600];
	struct hwgw_ctx *c;
	double t, direct = 0, gateway = 0;
	int rounds, n;

	if (argc != 4 || dir == NULL || gw_id == NULL || pin == NULL ||
	    (rounds = atoi(argv[1])) <= 0 || load_apdus(argv[3], apdus, &n) != 0) {
		fprintf(stderr,
		        "usage: bench_card ROUNDS READER APDU_FILE (GW, GW_ID, BENCH_PIN)\n");
		return 2;
	}
	snprintf(sock, sizeof(sock), "%s/hwgw.sock", dir);
	if (load_session(dir, &sess) != 0 || (c = counter_ctx(dir, gw_id)) == NULL)
		return 1;
	/* interleaved, so that drift on a noisy machine hits both alike */
	for (int i = 0; i < rounds; i++) {
		t = hwg_mono_seconds();
		if (direct_round(argv[2], apdus, n) != 0) {
			fprintf(stderr, "bench_card: direct round failed\n");
			return 1;
		}
		direct += hwg_mono_seconds() - t;
		t = hwg_mono_seconds();
		if (gateway_round(c, sock, argv[2], pin, &sess) != 0)
			return 1;
		gateway += hwg_mono_seconds() - t;
	}
	hwgw_ctx_free(c);
	hwg_wipe(&sess, sizeof(sess));
	printf("BENCH card.read_info.direct_pcsc %.2f ms apdus=%d\n", 1000 * direct / rounds, n);
	printf("BENCH card.read_info.gateway %.2f ms ratio=%.2f\n", 1000 * gateway / rounds,
	       gateway / direct);
	return 0;
}
