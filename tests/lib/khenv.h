/*
 * khenv.h — what the keyholder's tests share: a SoftHSM2 token made by
 * scripts/hsm-init (plus an Ed25519 key), a keyholder started on it, a
 * response signed through it and checked with the key its INFO gives,
 * and waiting for a keyholder to end.  The test process itself never
 * loads the PKCS#11 module (test_keyholder checks its own maps).
 */
#ifndef KHENV_H
#define KHENV_H

#include <cbor.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "hwg_cbor.h"
#include "hwg_cose.h"
#include "hwg_keyholder.h"
#include "hwg_test.h"

#define KH_TOKEN "hwgw"
#define KH_ED_LABEL "hwgw-test-ed25519"

static char kh_dir[] = "/tmp/hwgw-kh-test.XXXXXX";
static char kh_pin_file[300], kh_pin[80], kh_exe[600];
static const char *kh_module;

static inline int
kh_have(const char *tool)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "command -v %s >/dev/null 2>&1", tool);
	return system(cmd) == 0;
}

/* pkcs11-tool on the test token, the user PIN from the environment. */
static inline int
kh_p11tool(const char *args)
{
	char cmd[1024];
	int rc;

	setenv("HWG_TEST_PIN", kh_pin, 1);
	snprintf(cmd, sizeof(cmd),
	         "pkcs11-tool --module '%s' --token-label " KH_TOKEN
	         " --pin env:HWG_TEST_PIN %s >/dev/null 2>&1",
	         kh_module, args);
	rc = system(cmd);
	unsetenv("HWG_TEST_PIN");
	return rc;
}

/* The token, the PIN, the keyholder's path; 0, 77 (skip) or 1. */
static inline int
kh_setup(void)
{
	const char *src = getenv("HWG_SOURCE_DIR"), *bld = getenv("HWG_BUILD_DIR");
	char cmd[1024], conf[300];
	FILE *f;

	kh_module =
	    getenv("HWG_P11_MODULE") ? getenv("HWG_P11_MODULE") : "/usr/lib/softhsm/libsofthsm2.so";
	if (access(kh_module, R_OK) != 0 || !kh_have("softhsm2-util") || !kh_have("pkcs11-tool")) {
		fprintf(stderr, "skip: needs SoftHSM2 (%s) and opensc's pkcs11-tool\n", kh_module);
		return 77;
	}
	if (src == NULL || bld == NULL) {
		fprintf(stderr, "HWG_SOURCE_DIR and HWG_BUILD_DIR must be set (ctest sets them)\n");
		return 1;
	}
	snprintf(kh_exe, sizeof(kh_exe), "%s/gateway/hwgw-keyholder", bld);
	if (mkdtemp(kh_dir) == NULL) {
		fprintf(stderr, "mkdtemp: %s\n", strerror(errno));
		return 1;
	}
	snprintf(cmd, sizeof(cmd), "'%s/scripts/hsm-init' --dir '%s' --module '%s' >/dev/null", src,
	         kh_dir, kh_module);
	if (system(cmd) != 0) {
		fprintf(stderr, "scripts/hsm-init failed\n");
		return 1;
	}
	snprintf(conf, sizeof(conf), "%s/softhsm2.conf", kh_dir);
	setenv("SOFTHSM2_CONF", conf, 1);
	snprintf(kh_pin_file, sizeof(kh_pin_file), "%s/hsm.pin", kh_dir);
	if ((f = fopen(kh_pin_file, "r")) == NULL || fgets(kh_pin, sizeof(kh_pin), f) == NULL) {
		fprintf(stderr, "cannot read %s\n", kh_pin_file);
		return 1;
	}
	fclose(f);
	kh_pin[strcspn(kh_pin, "\n")] = '\0';
	if (kh_p11tool("--keypairgen --key-type EC:edwards25519 --label " KH_ED_LABEL
	               " --id 10 --usage-sign") != 0) {
		fprintf(stderr, "cannot make the Ed25519 key\n");
		return 1;
	}
	return 0;
}

static inline void
kh_teardown(void)
{
	char cmd[600];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", kh_dir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", kh_dir);
}

static inline struct hwg_keyholder_config
kh_config(const char *response_key)
{
	struct hwg_keyholder_config cfg = {
	    .exe = kh_exe,
	    .module_path = kh_module,
	    .token_label = KH_TOKEN,
	    .pin_file = kh_pin_file,
	    .response_key = response_key,
	    .audit_key = "hwgw-audit",
	    .template_key = "hwgw-template",
	    .seal_key = "hwgw-seal",
	};
	return cfg;
}

/* What on_end saw last. */
struct kh_ends {
	int count;
	long pid;
	int status;
	int64_t restart_in_ms;
	char why[300], detail[400];
};

static inline void
kh_on_end(void *arg, const struct hwg_keyholder_end *e)
{
	struct kh_ends *seen = arg;

	seen->count++;
	seen->pid = e->pid;
	seen->status = e->status;
	seen->restart_in_ms = e->restart_in_ms;
	snprintf(seen->why, sizeof(seen->why), "%s", e->why);
	snprintf(seen->detail, sizeof(seen->detail), "%s", e->detail);
}

static inline struct hwg_keyholder *
kh_start(const char *response_key, struct kh_ends *seen)
{
	struct hwg_keyholder_config cfg = kh_config(response_key);
	struct hwg_keyholder *k = NULL;
	struct hwg_error err = {0};

	if (hwg_keyholder_start(&cfg, kh_on_end, seen, &k, &err) != 0)
		fprintf(stderr, "  keyholder start: %s\n", err.message);
	return k;
}

/* A response payload as hwg_core builds it: ok, or err (with tries when tries >= 0). */
static inline uint8_t *
kh_response(int ok, int tries, size_t *len)
{
	static const uint8_t req[32] = {1, 2, 3};
	cbor_item_t *m = cbor_new_definite_map(4), *e;
	unsigned char *out = NULL;
	size_t cap = 0;
	int rc;

	rc = hwg_cbor_map_put_uint(m, "v", 1) | hwg_cbor_map_put_bytes(m, "req", req, 32) |
	     hwg_cbor_map_put_uint(m, "t", 1700000000000ull);
	if (ok) {
		cbor_item_t *r = cbor_new_definite_map(1);

		rc |= hwg_cbor_map_put_text(r, "gateway_id", "gw-test");
		rc |= hwg_cbor_map_put_item(m, "ok", r);
	} else {
		e = cbor_new_definite_map(tries >= 0 ? 3 : 2);
		rc |= hwg_cbor_map_put_text(e, "code", "pin_wrong") |
		      hwg_cbor_map_put_text(e, "msg", "wrong PIN");
		if (tries >= 0)
			rc |= hwg_cbor_map_put_uint(e, "tries", (uint64_t)tries);
		rc |= hwg_cbor_map_put_item(m, "err", e);
	}
	*len = rc == 0 ? cbor_serialize_alloc(m, &out, &cap) : 0;
	cbor_decref(&m);
	return out;
}

/* Sign a response through the keyholder and verify it with INFO's key: 0 or the error. */
static inline int
kh_sign_verify(struct hwg_keyholder *k, struct hwg_error *err)
{
	struct hwg_keyholder_info info;
	struct hwg_cose_sign1 m;
	uint8_t *payload, *msg = NULL;
	size_t len = 0, msg_len = 0;
	EVP_PKEY *pub;
	int rc;

	if ((rc = hwg_keyholder_info(k, &info, err)) != 0)
		return rc;
	if ((payload = kh_response(1, -1, &len)) == NULL)
		return HWG_E_NOMEM;
	rc = hwg_cose_sign1_encode(hwg_keyholder_response_alg(k), payload, len,
	                           hwg_keyholder_sign_response, k, &msg, &msg_len, err);
	free(payload);
	if (rc != 0)
		return rc;
	if ((rc = hwg_cose_sign1_decode(msg, msg_len, &m, err)) == 0) {
		pub = hwg_keyholder_key_public(&info.response);
		rc = pub != NULL ? hwg_cose_sign1_verify(&m, pub, err) : HWG_E_INVALID;
		EVP_PKEY_free(pub);
		hwg_cose_sign1_clear(&m);
	}
	free(msg);
	return rc;
}

/*
 * Wait until pid has ended (reapable, not reaped) or is gone: 1, or 0
 * after 10 s.  A child of ours is asked with WNOWAIT: a process with
 * threads shows its first thread as a zombie before the others have
 * ended, and is reapable only after them.
 */
static inline int
kh_wait_ended(long pid)
{
	const struct timespec tick = {0, 20 * 1000 * 1000};
	char path[64], buf[256], *p;

	snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
	for (int i = 0; i < 500; i++) {
		siginfo_t si = {0};
		FILE *f;

		if (waitid(P_PID, (id_t)pid, &si, WEXITED | WNOWAIT | WNOHANG) == 0) {
			if (si.si_pid == (pid_t)pid)
				return 1;
			nanosleep(&tick, NULL);
			continue; /* ours, still running */
		}
		if ((f = fopen(path, "r")) == NULL)
			return 1;
		p = fgets(buf, sizeof(buf), f) != NULL ? strrchr(buf, ')') : NULL;
		fclose(f);
		if (p != NULL && p[1] == ' ' && p[2] == 'Z')
			return 1;
		nanosleep(&tick, NULL);
	}
	return 0;
}

/* 1 if /proc/<pid>/maps (pid 0: ours) names a mapping containing what. */
static inline int
kh_maps_have(long pid, const char *what)
{
	char path[64], line[1024];
	int found = 0;
	FILE *f;

	if (pid > 0)
		snprintf(path, sizeof(path), "/proc/%ld/maps", pid);
	else
		snprintf(path, sizeof(path), "/proc/self/maps");
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	while (!found && fgets(line, sizeof(line), f) != NULL)
		found = strstr(line, what) != NULL;
	fclose(f);
	return found;
}

#endif
