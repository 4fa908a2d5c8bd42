/*
 * make_verdict_seeds.c — writes the seed corpus of fuzz_verdict, and
 * checks it.
 *
 *   fuzz_verdict_seeds DIR          write the seeds into DIR
 *   fuzz_verdict_seeds --check DIR  every "ok-*" seed must decode and every
 *                                   "bad-*" seed be refused (a ctest)
 *
 * Each seed is fuzz_verdict.c's selector byte (0 a verdict, 1 a reply)
 * and a body hwg_msg encodes: passes and refusals as the net process
 * sends them, replies as the privileged process does, and the refusals
 * test_msg checks.  Other files in the corpus (saved crashers) are left
 * alone.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hwg_msg.h"
#include "hwg_optable.h"
#include "hwg_roles.h"

static const uint8_t client_bytes[] = "\xd2\x84 a COSE_Sign1 as a client sent it";
static const char *dir;
static int failed;

static void
save(const char *name, uint8_t kind, const struct hwg_buf *b)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((f = fopen(path, "wb")) == NULL || fputc(kind, f) == EOF ||
	    fwrite(hwg_buf_ptr(b), 1, hwg_buf_len(b), f) != hwg_buf_len(b)) {
		fprintf(stderr, "cannot write %s\n", path);
		failed = 1;
	}
	if (f != NULL && fclose(f) != 0)
		failed = 1;
}

static struct hwg_verdict
sample(const char *op, int code)
{
	struct hwg_verdict v;

	memset(&v, 0, sizeof(v));
	memset(v.req_hash, 0x5a, sizeof(v.req_hash));
	v.code = code;
	v.have_req = 1;
	v.req.version = 1;
	snprintf(v.req.client_id, sizeof(v.req.client_id), "counter-1");
	snprintf(v.req.op, sizeof(v.req.op), "%s", op);
	snprintf(v.req.audience, sizeof(v.req.audience), "gw-01");
	v.req.time_ms = 1796000000000;
	memset(v.req.nonce, 7, 16);
	v.req.nonce_len = 16;
	memset(v.req.session, 9, 32);
	v.req.session_len = code == 0 ? 32 : 0;
	v.req.args = cbor_new_definite_map(1);
	(void)cbor_map_add(v.req.args, (struct cbor_pair){cbor_move(cbor_build_string("reader")),
	                                                  cbor_move(cbor_build_string("hwsim 00 00"))});
	if (code != 0)
		snprintf(v.message, sizeof(v.message), "a refusal's message");
	return v;
}

static void
verdict_seed(const char *name, const char *transport, const char *op, int code, int with_bytes,
             int extra)
{
	struct hwg_peer peer = {transport, 1000, NULL, 0};
	struct hwg_verdict v = sample(op, code);
	struct hwg_buf *b = hwg_buf_new(HWG_MSG_MAX);

	if (b == NULL || hwg_msg_verdict_encode(&peer, &v, with_bytes ? client_bytes : NULL,
	                                        with_bytes ? sizeof(client_bytes) : 0, b) != 0 ||
	    (extra && hwg_buf_put_u8(b, 0) != 0))
		failed = 1;
	else
		save(name, 0, b);
	hwg_verdict_clear(&v);
	hwg_buf_free(b);
}

static void
reply_seed(const char *name, int rc, const char *body)
{
	struct hwg_reply r = {.body = (uint8_t *)(uintptr_t)body, .len = body != NULL ? strlen(body) : 0};
	struct hwg_buf *b = hwg_buf_new(1024);

	if (b == NULL || hwg_msg_reply_encode(rc, &r, b) != 0)
		failed = 1;
	else
		save(name, 1, b);
	hwg_buf_free(b);
}

static int
write_seeds(void)
{
	verdict_seed("ok-pass-card.read_info", "unix", "card.read_info", 0, 1, 0);
	verdict_seed("ok-pass-gw.info-http", "http", "gw.info", 0, 1, 0);
	verdict_seed("ok-refusal", "http", "gw.info", HWG_E_BAD_SIGNATURE, 0, 0);
	verdict_seed("bad-pass-unknown-op", "unix", "no.such", 0, 1, 0);
	verdict_seed("bad-pass-without-bytes", "unix", "gw.info", 0, 0, 0);
	verdict_seed("bad-extra-byte", "unix", "gw.info", 0, 1, 1);
	verdict_seed("bad-transport", "smtp", "gw.info", 0, 1, 0);
	reply_seed("ok-reply", 0, "a signed response");
	reply_seed("ok-reply-none", HWG_E_HSM, NULL);
	return failed;
}

static int
decodes(const uint8_t *p, size_t n)
{
	struct hwg_buf *b = hwg_buf_from(p + 1, n - 1);
	struct hwg_error err = {0};
	struct hwg_verdict v;
	struct hwg_peer peer;
	struct hwg_reply r;
	const uint8_t *m;
	size_t len;
	int rc, code;

	if (b == NULL)
		return 0;
	if (p[0] == 0) {
		rc = hwg_msg_verdict_decode(b, &peer, &v, &m, &len, &err);
		hwg_verdict_clear(&v);
	} else {
		rc = hwg_msg_reply_decode(b, &code, &r, &err);
		hwg_reply_clear(&r);
	}
	hwg_buf_free(b);
	return rc == 0;
}

static int
check_seeds(void)
{
	struct dirent *e;
	DIR *d = opendir(dir);
	int checked = 0;

	if (d == NULL) {
		perror(dir);
		return 1;
	}
	while ((e = readdir(d)) != NULL) {
		char path[4096];
		uint8_t buf[65536];
		size_t n;
		FILE *f;
		int ok = strncmp(e->d_name, "ok-", 3) == 0, bad = strncmp(e->d_name, "bad-", 4) == 0;

		if (!ok && !bad)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		if ((f = fopen(path, "rb")) == NULL)
			return 1;
		n = fread(buf, 1, sizeof(buf), f);
		fclose(f);
		if (n == 0 || decodes(buf, n) != ok) {
			fprintf(stderr, "%s: %s\n", e->d_name, ok ? "refused" : "accepted");
			failed = 1;
		}
		checked++;
	}
	closedir(d);
	printf("%d seeds checked\n", checked);
	return failed || checked == 0;
}

int
main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "--check") == 0) {
		dir = argv[2];
		return check_seeds();
	}
	if (argc != 2) {
		fprintf(stderr, "usage: fuzz_verdict_seeds [--check] DIR\n");
		return 2;
	}
	dir = argv[1];
	return write_seeds();
}
