/*
 * make_vein_seeds.c — writes the seed corpus of fuzz_vein_frame, and checks it.
 *
 *   fuzz_vein_seeds DIR          write the seeds into DIR
 *   fuzz_vein_seeds --check DIR  every "resp-*" file must decode as a frame
 *                                to the host and parse with its type's
 *                                parser, every "cmd-*" file as a frame to a
 *                                terminal (a ctest)
 *
 * The responses are real answers of the simulated terminal (hw-sim/
 * sim_vein) to commands built by the codec, one or more of each response
 * type, so that the fuzzer starts from frames whose CRC and layout are
 * right.  Other files in the corpus (saved crashers) are left alone.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hwg_vein_proto.h"
#include "sim_vein.h"

static const uint8_t seed[32] = "fuzz_vein_frame: a fixed key...";
static const char *dir;
static int failed;

static void
save(const char *name, const uint8_t *p, size_t n)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((f = fopen(path, "wb")) == NULL || fwrite(p, 1, n, f) != n) {
		fprintf(stderr, "cannot write %s\n", path);
		failed = 1;
	}
	if (f != NULL && fclose(f) != 0)
		failed = 1;
}

/* Frame the command, save it as cmd-NAME if asked, and hand it to the terminal. */
static void
command(struct sim_vein *t, uint64_t now, const char *name, uint8_t type, uint16_t seq,
        const uint8_t *p, size_t n)
{
	uint8_t f[HWG_VEIN_FRAME_MAX];
	size_t len = 0;
	char file[64];

	if (hwg_vein_frame_encode(type, seq, p, n, f, sizeof(f), &len, NULL) != 0 ||
	    sim_vein_write(t, now, f, len, NULL) != 0) {
		failed = 1;
		return;
	}
	if (name != NULL) {
		snprintf(file, sizeof(file), "cmd-%s", name);
		save(file, f, len);
	}
}

static void
capture(struct sim_vein *t, uint64_t now, const char *name, uint16_t seq)
{
	struct hwg_vein_msg_capture_req req;
	uint8_t p[64];
	size_t n = 0;

	memset(req.nonce, (int)seq, sizeof(req.nonce));
	req.timeout_ms = 1000;
	hwg_vein_enc_capture_req(&req, p, sizeof(p), &n, NULL);
	command(t, now, name, HWG_VEIN_CAPTURE, seq, p, n);
}

static void
answer(struct sim_vein *t, uint64_t now, const char *name)
{
	uint8_t f[HWG_VEIN_IN_TRANSFER_LEN];
	size_t len = 0;
	char file[64];

	if (sim_vein_read(t, now, f, sizeof(f), &len) != SIM_VEIN_FRAME_READY) {
		fprintf(stderr, "no answer for %s\n", name);
		failed = 1;
		return;
	}
	snprintf(file, sizeof(file), "resp-%s", name);
	save(file, f, len);
}

static int
write_seeds(void)
{
	struct sim_vein_config cfg = {.serial = "FUZZ-0001", .key_seed = seed, .rng_seed = 7};
	struct sim_vein *t = NULL;
	uint8_t nonce[32] = {1, 2, 3};
	static const uint8_t garbage[] = {'P', 'V', 1, 4, 0, 9, 0, 0, 0, 0, 0, 0};

	if (sim_vein_new(&cfg, &t, NULL) != 0)
		return 1;
	command(t, 0, "get-info", HWG_VEIN_GET_INFO, 1, NULL, 0);
	answer(t, 0, "info");
	command(t, 0, "pair", HWG_VEIN_PAIR, 2, nonce, sizeof(nonce));
	answer(t, 0, "pair");
	sim_vein_present(t, SIM_VEIN_GOOD, "alice", 1, NULL);
	capture(t, 0, "capture", 3);
	answer(t, 0, "capture-ok");
	capture(t, 0, NULL, 4);
	answer(t, 1000, "capture-timeout");
	capture(t, 0, NULL, 5);
	command(t, 0, "cancel", HWG_VEIN_CANCEL, 6, NULL, 0);
	answer(t, 0, "capture-cancelled");
	answer(t, 0, "cancel-ok");
	command(t, 0, NULL, HWG_VEIN_CANCEL, 7, NULL, 0);
	answer(t, 0, "cancel-not-capturing");
	command(t, 0, "status", HWG_VEIN_STATUS, 8, NULL, 0);
	answer(t, 0, "status");
	sim_vein_write(t, 0, garbage, sizeof(garbage), NULL);
	answer(t, 0, "error-bad-crc");
	sim_vein_write(t, 0, garbage, 5, NULL);
	answer(t, 0, "error-bad-request");
	sim_vein_set_fault(t, 1);
	command(t, 0, NULL, HWG_VEIN_PAIR, 9, nonce, sizeof(nonce));
	answer(t, 0, "pair-hw-fault");
	sim_vein_free(t);
	return failed;
}

/* 0 if the payload parses with the parser of its frame's type. */
static int
parse_as(const struct hwg_vein_frame *f)
{
	struct hwg_vein_msg_info info;
	struct hwg_vein_msg_capture cap;
	struct hwg_vein_msg_status st;
	struct hwg_vein_msg_pair pair;
	uint8_t s;

	switch (f->type) {
	case HWG_VEIN_GET_INFO | HWG_VEIN_RESPONSE:
		return hwg_vein_parse_info(f->payload, f->payload_len, &info, NULL);
	case HWG_VEIN_CAPTURE | HWG_VEIN_RESPONSE:
		return hwg_vein_parse_capture(f->payload, f->payload_len, &cap, NULL);
	case HWG_VEIN_CANCEL | HWG_VEIN_RESPONSE:
		return hwg_vein_parse_cancel_resp(f->payload, f->payload_len, &s, NULL);
	case HWG_VEIN_STATUS | HWG_VEIN_RESPONSE:
		return hwg_vein_parse_status(f->payload, f->payload_len, &st, NULL);
	case HWG_VEIN_PAIR | HWG_VEIN_RESPONSE:
		return hwg_vein_parse_pair(f->payload, f->payload_len, &pair, NULL);
	default:
		return hwg_vein_parse_error(f->payload, f->payload_len, &s, NULL);
	}
}

static int
check_file(const char *name)
{
	uint8_t buf[HWG_VEIN_IN_TRANSFER_LEN + 1];
	char path[4096];
	struct hwg_vein_frame f;
	struct hwg_error err = {0};
	size_t n;
	FILE *fp;
	int resp = strncmp(name, "resp-", 5) == 0, ok;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((fp = fopen(path, "rb")) == NULL)
		return 1;
	n = fread(buf, 1, sizeof(buf), fp);
	fclose(fp);
	ok = hwg_vein_frame_decode(buf, n, resp ? HWG_VEIN_TO_HOST : HWG_VEIN_TO_TERMINAL, &f,
	                           &err) == 0 &&
	     (!resp || parse_as(&f) == 0);
	if (!ok)
		fprintf(stderr, "seed %s no longer valid: %s\n", name, err.message);
	return !ok;
}

static int
check_seeds(void)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	if (d == NULL)
		return 1;
	while ((e = readdir(d)) != NULL) {
		if (strncmp(e->d_name, "resp-", 5) != 0 && strncmp(e->d_name, "cmd-", 4) != 0)
			continue;
		failed |= check_file(e->d_name);
		n++;
	}
	closedir(d);
	printf("%d seeds checked, %s\n", n, failed ? "some invalid" : "all valid");
	return failed || n == 0;
}

int
main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "--check") == 0) {
		dir = argv[2];
		return check_seeds();
	}
	if (argc != 2) {
		fprintf(stderr, "usage: fuzz_vein_seeds [--check] DIR\n");
		return 2;
	}
	dir = argv[1];
	return write_seeds();
}
