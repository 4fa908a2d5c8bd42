/*
 * test_config.c — the [vein], [operator] and [hsm] template_key settings
 * of hwgwd.conf: their defaults, each value read, and each refusal naming
 * the key (bad USB ids, a threshold outside 0..1 or not a number, bounds
 * of percentages, timeouts and failure counts, an idle timeout longer than
 * the absolute limit), and the front door's limits (max_age, the head
 * and request deadlines, the per-peer and per-uid connection limits:
 * half of max_connections unless set, never more).  Also checks that hwgwd.conf.example loads and
 * documents every key the parser knows in its sections.  The text parser
 * (hwg_config_parse_string, which the file loader and fuzz_config use)
 * gives the file's messages under the name it is given; a file with a NUL
 * byte or over HWG_CONFIG_FILE_MAX is refused, naming it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hwg_config.h"
#include "hwg_optable.h"
#include "hwg_roles.h"
#include "hwg_test.h"

static const char base[] = "[gateway]\nid = gw\nstate_dir = /var/lib/hwgw\n"
                           "[hsm]\nmodule = /m.so\ntoken = t\npin_file = /p\n"
                           "[unix]\nsocket = /run/x.sock\n";

/* Load base + extra; returns the code, err filled. */
static int
load(const char *extra, struct hwg_config *c, struct hwg_error *err)
{
	char path[] = "/tmp/hwgw-config-test.XXXXXX";
	int fd = mkstemp(path), rc;
	FILE *f;

	if (fd < 0 || (f = fdopen(fd, "w")) == NULL) {
		perror("mkstemp");
		exit(2);
	}
	fprintf(f, "%s%s", base, extra);
	fclose(f);
	hwg_config_defaults(c);
	rc = hwg_config_load(path, c, err);
	unlink(path);
	return rc;
}

static void
test_defaults(void)
{
	struct hwg_config c;
	struct hwg_error err = {0};

	CHECK_EQ_INT(load("", &c, &err), 0);
	CHECK_EQ_STR(c.hsm_template_key, "hwgw-template");
	CHECK_EQ_STR(c.hsm_seal_key, "hwgw-seal");
	CHECK(c.hsm_signers >= 1 && c.hsm_signers <= 16); /* the cores, at most 16 */
	CHECK_EQ_INT(c.workers, 16);
	CHECK_EQ_INT(c.vein_enabled, 1);
	CHECK_EQ_INT(c.vein_n_usb_ids, 1);
	CHECK_EQ_INT(c.vein_usb_ids[0][0], 0x1209);
	CHECK_EQ_INT(c.vein_usb_ids[0][1], 0x0001);
	CHECK_EQ_INT(c.vein_capture_timeout_ms, 15000);
	CHECK(c.vein_threshold == HWG_MATCH_THRESHOLD_DEFAULT);
	CHECK_EQ_INT(c.vein_min_quality, 40);
	CHECK_EQ_INT(c.vein_min_liveness, 50);
	CHECK_EQ_INT(c.vein_identify, 0);
	CHECK_EQ_INT(c.operator_session_idle_s, 600);
	CHECK_EQ_INT(c.operator_session_max_s, 28800);
	CHECK_EQ_INT(c.operator_max_failures, 5);
	CHECK_EQ_INT(c.operator_lockout_s, 900);
	CHECK_EQ_INT(c.max_age_ms, 30000);
	CHECK_EQ_INT(c.header_timeout_s, 5);
	CHECK_EQ_INT(c.request_timeout_s, 10);
	CHECK_EQ_INT(c.max_connections_per_peer, 32);
	CHECK_EQ_INT(c.max_connections_per_uid, 32);
	hwg_config_clear(&c);
	/* the per-peer limits follow max_connections when not set */
	CHECK_EQ_INT(load("[http]\nmax_connections = 16\n", &c, &err), 0);
	CHECK_EQ_INT(c.max_connections_per_peer, 8);
	CHECK_EQ_INT(c.max_connections_per_uid, 8);
	hwg_config_clear(&c);
	CHECK_EQ_INT(load("[http]\nmax_connections = 1\n", &c, &err), 0);
	CHECK_EQ_INT(c.max_connections_per_peer, 1);
	hwg_config_clear(&c);
}

static void
test_values_read(void)
{
	struct hwg_config c;
	struct hwg_error err = {0};

	CHECK_EQ_INT(load("[gateway]\nworkers = 8\n"
	                  "[hsm]\ntemplate_key = other-key\nseal_key = city-seal\nsigners = 3\n"
	                  "[vein]\nenabled = no\nusb_ids = 1209:0001, abcd:EF01 0000:ffff\n"
	                  "scan_interval_ms = 250\ncommand_timeout_ms = 300\n"
	                  "capture_timeout_ms = 60000\nthreshold = 0.625\nmin_quality = 0\n"
	                  "min_liveness = 100\nidentify = yes\n"
	                  "[operator]\nsession_idle_s = 60\nsession_max_s = 60\n"
	                  "max_failures = 1\nlockout_s = 86400\n",
	                  &c, &err),
	             0);
	CHECK_EQ_STR(err.message, "");
	CHECK_EQ_STR(c.hsm_template_key, "other-key");
	CHECK_EQ_STR(c.hsm_seal_key, "city-seal");
	CHECK_EQ_INT(c.hsm_signers, 3);
	CHECK_EQ_INT(c.workers, 8);
	CHECK_EQ_INT(c.vein_enabled, 0);
	CHECK_EQ_INT(c.vein_n_usb_ids, 3);
	CHECK_EQ_INT(c.vein_usb_ids[1][0], 0xabcd);
	CHECK_EQ_INT(c.vein_usb_ids[1][1], 0xef01);
	CHECK_EQ_INT(c.vein_usb_ids[2][0], 0);
	CHECK_EQ_INT(c.vein_usb_ids[2][1], 0xffff);
	CHECK_EQ_INT(c.vein_scan_interval_ms, 250);
	CHECK_EQ_INT(c.vein_command_timeout_ms, 300);
	CHECK_EQ_INT(c.vein_capture_timeout_ms, 60000);
	CHECK(c.vein_threshold == 0.625);
	CHECK_EQ_INT(c.vein_min_quality, 0);
	CHECK_EQ_INT(c.vein_min_liveness, 100);
	CHECK_EQ_INT(c.vein_identify, 1);
	CHECK_EQ_INT(c.operator_session_idle_s, 60);
	CHECK_EQ_INT(c.operator_session_max_s, 60);
	CHECK_EQ_INT(c.operator_max_failures, 1);
	CHECK_EQ_INT(c.operator_lockout_s, 86400);
	hwg_config_clear(&c);
	CHECK_EQ_INT(load("[api]\nalgorithms = EdDSA\n"
	                  "[http]\nallowed_origins = https://a.example, http://b.example:8080\n"
	                  "[card]\nmynumber_roles = counter, issuance\n",
	                  &c, &err),
	             0);
	CHECK(c.alg_eddsa == 1 && c.alg_es256 == 0);
	CHECK_EQ_INT(c.n_origins, 2);
	CHECK(c.n_origins == 2 && strcmp(c.origins[1], "http://b.example:8080") == 0);
	CHECK_EQ_INT(c.card_mynumber_roles,
	             HWG_ROLE_BIT(HWG_ROLE_COUNTER) | HWG_ROLE_BIT(HWG_ROLE_ISSUANCE));
	hwg_config_clear(&c);
	CHECK_EQ_INT(load("[api]\nmax_age = 5\n[unix]\nmax_connections_per_uid = 3\n"
	                  "[http]\nmax_connections = 10\nmax_connections_per_peer = 10\n"
	                  "header_timeout = 2\nrequest_timeout = 2\n",
	                  &c, &err),
	             0);
	CHECK_EQ_INT(c.max_age_ms, 5000);
	CHECK_EQ_INT(c.max_connections_per_uid, 3);
	CHECK_EQ_INT(c.max_connections_per_peer, 10);
	CHECK_EQ_INT(c.header_timeout_s, 2);
	CHECK_EQ_INT(c.request_timeout_s, 2);
	hwg_config_clear(&c);
	CHECK_EQ_INT(load("[vein]\nthreshold = 0\n", &c, &err), 0);
	CHECK(c.vein_threshold == 0.0);
	hwg_config_clear(&c);
	CHECK_EQ_INT(load("[vein]\nthreshold = 1\n", &c, &err), 0);
	CHECK(c.vein_threshold == 1.0);
	hwg_config_clear(&c);
}

/* A refused value: HWG_E_CONFIG naming the key. */
static void
refused(const char *extra, const char *key)
{
	struct hwg_config c;
	struct hwg_error err = {0};

	CHECK_EQ_INT(load(extra, &c, &err), HWG_E_CONFIG);
	if (strstr(err.message, key) == NULL)
		fprintf(stderr, "  message \"%s\" does not name %s\n", err.message, key);
	CHECK(strstr(err.message, key) != NULL);
	hwg_config_clear(&c);
}

static void
test_refusals(void)
{
	refused("[vein]\nusb_ids = 1209-0001\n", "usb_ids");
	refused("[vein]\nusb_ids = 0x12:0001\n", "usb_ids");
	refused("[vein]\nusb_ids = 1209:00012\n", "usb_ids");
	refused("[vein]\nusb_ids = 12g9:0001\n", "usb_ids");
	refused("[vein]\nusb_ids = ,\n", "usb_ids");
	refused("[vein]\nusb_ids = 0001:0001 0001:0002 0001:0003 0001:0004 0001:0005 "
	        "0001:0006 0001:0007 0001:0008 0001:0009\n",
	        "usb_ids");
	refused("[api]\nalgorithms = RS256\n", "algorithms");
	refused("[api]\nalgorithms = ES256 RS256\n", "algorithms");
	refused("[api]\nalgorithms = ,\n", "algorithms");
	refused("[http]\nallowed_origins = https://counter.example/path\n", "allowed_origins");
	refused("[http]\nallowed_origins = https://*.example\n", "allowed_origins");
	refused("[http]\nallowed_origins = ftp://counter.example\n", "allowed_origins");
	refused("[card]\nmynumber_roles = counter maintenance\n", "mynumber_roles");
	refused("[card]\nmynumber_roles = clerk\n", "mynumber_roles");
	refused("[vein]\nthreshold = 1.01\n", "threshold");
	refused("[vein]\nthreshold = -0.1\n", "threshold");
	refused("[vein]\nthreshold = nan\n", "threshold");
	refused("[vein]\nthreshold = 0.5x\n", "threshold");
	refused("[vein]\nthreshold = \n", "threshold");
	refused("[vein]\nmin_quality = 101\n", "min_quality");
	refused("[vein]\nmin_liveness = -1\n", "min_liveness");
	refused("[vein]\ncapture_timeout_ms = 99\n", "capture_timeout_ms");
	refused("[vein]\ncapture_timeout_ms = 60001\n", "capture_timeout_ms");
	refused("[vein]\nscan_interval_ms = 0\n", "scan_interval_ms");
	refused("[vein]\nidentify = maybe\n", "identify");
	refused("[vein]\ncolour = blue\n", "colour");
	refused("[operator]\nmax_failures = 0\n", "max_failures");
	refused("[operator]\nlockout_s = 86401\n", "lockout_s");
	refused("[operator]\nsession_idle_s = 0\n", "session_idle_s");
	refused("[operator]\nsession_idle_s = 700\nsession_max_s = 600\n", "session_idle_s");
	refused("[api]\nmax_age = 0\n", "max_age");
	refused("[http]\nheader_timeout = 0\n", "header_timeout");
	refused("[http]\nheader_timeout = 11\n", "header_timeout"); /* over request_timeout */
	refused("[http]\nrequest_timeout = 3601\n", "request_timeout");
	refused("[http]\nmax_connections = 8\nmax_connections_per_peer = 9\n",
	        "max_connections_per_peer");
	refused("[http]\nmax_connections_per_peer = 0\n", "max_connections_per_peer");
	refused("[unix]\nmax_connections_per_uid = 65\n", "max_connections_per_uid");
	refused("[hsm]\nsigners = 0\n", "signers");
	refused("[hsm]\nsigners = 17\n", "signers");
	refused("[gateway]\nworkers = 0\n", "workers");
}

/* The example configuration loads and mentions every key of the new sections. */
static void
test_example_documents_keys(void)
{
	static const char *const keys[] = {
	    "template_key",
	    "seal_key",
	    "signers",
	    "workers",
	    "usb_ids",
	    "scan_interval_ms",
	    "command_timeout_ms",
	    "capture_timeout_ms",
	    "threshold",
	    "min_quality",
	    "min_liveness",
	    "identify",
	    "session_idle_s",
	    "session_max_s",
	    "max_failures",
	    "lockout_s",
	    "[vein]",
	    "[operator]",
	    "max_age",
	    "header_timeout",
	    "request_timeout",
	    "max_connections_per_peer",
	    "max_connections_per_uid",
	};
	const char *src = getenv("HWG_SOURCE_DIR");
	char path[4096], *text;
	struct hwg_config c;
	struct hwg_error err = {0};
	FILE *f;
	long n;

	if (src == NULL) {
		fprintf(stderr, "  HWG_SOURCE_DIR not set\n");
		CHECK(src != NULL);
		return;
	}
	snprintf(path, sizeof(path), "%s/gateway/hwgwd.conf.example", src);
	hwg_config_defaults(&c);
	CHECK_EQ_INT(hwg_config_load(path, &c, &err), 0);
	CHECK(c.vein_threshold == HWG_MATCH_THRESHOLD_DEFAULT);
	hwg_config_clear(&c);
	if ((f = fopen(path, "r")) == NULL) {
		CHECK(f != NULL);
		return;
	}
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	text = calloc(1, (size_t)n + 1);
	CHECK(text != NULL && fread(text, 1, (size_t)n, f) == (size_t)n);
	fclose(f);
	for (size_t i = 0; text != NULL && i < sizeof(keys) / sizeof(keys[0]); i++) {
		if (strstr(text, keys[i]) == NULL)
			fprintf(stderr, "  %s is not in the example\n", keys[i]);
		CHECK(strstr(text, keys[i]) != NULL);
	}
	free(text);
}

/* A file of len bytes from p; its path in path (the caller unlinks it). */
static void
write_file(char path[], const void *p, size_t len)
{
	int fd = mkstemp(path);
	FILE *f;

	if (fd < 0 || (f = fdopen(fd, "w")) == NULL) {
		perror("mkstemp");
		exit(2);
	}
	if (fwrite(p, 1, len, f) != len) {
		perror("fwrite");
		exit(2);
	}
	fclose(f);
}

/* The string parser: what the file loader says, under the given name. */
static void
test_parse_string(void)
{
	char text[1024], path[] = "/tmp/hwgw-config-test.XXXXXX";
	struct hwg_config c;
	struct hwg_error err = {0};

	snprintf(text, sizeof(text), "%s[vein]\nmin_quality = 7\n", base);
	hwg_config_defaults(&c);
	CHECK_EQ_INT(hwg_config_parse_string(text, "inline", &c, &err), 0);
	CHECK_EQ_STR(err.message, "");
	CHECK_EQ_STR(c.gateway_id, "gw");
	CHECK_EQ_INT(c.vein_min_quality, 7);
	hwg_config_clear(&c);
	/* a bad value: "NAME:LINE: [section] key = ..." as from a file */
	snprintf(text, sizeof(text), "%s[vein]\nmin_quality = 101\n", base);
	hwg_config_defaults(&c);
	CHECK_EQ_INT(hwg_config_parse_string(text, "inline", &c, &err), HWG_E_CONFIG);
	CHECK_EQ_STR(err.message, "inline:11: [vein] min_quality = \"101\": expected a number "
	                          "from 0 to 100");
	hwg_config_clear(&c);
	write_file(path, text, strlen(text));
	hwg_config_defaults(&c);
	CHECK_EQ_INT(hwg_config_load(path, &c, &err), HWG_E_CONFIG);
	CHECK(strncmp(err.message, path, strlen(path)) == 0);
	CHECK_EQ_STR(err.message + strlen(path),
	             ":11: [vein] min_quality = \"101\": expected a number from 0 to 100");
	hwg_config_clear(&c);
	unlink(path);
	/* a syntax error, and a check of the whole */
	hwg_config_defaults(&c);
	CHECK_EQ_INT(hwg_config_parse_string("[gateway\n", "inline", &c, &err), HWG_E_CONFIG);
	CHECK_EQ_STR(err.message, "inline:1: syntax error");
	hwg_config_clear(&c);
	hwg_config_defaults(&c);
	CHECK_EQ_INT(hwg_config_parse_string("", "inline", &c, &err), HWG_E_CONFIG);
	CHECK_EQ_STR(err.message, "inline: [gateway] id is required (1-64 characters)");
	hwg_config_clear(&c);
}

/* Files that are no configuration text: a NUL inside, too large. */
static void
test_file_refusals(void)
{
	static const char nul_line[] = "[vein]\nmin_quality = 7\0junk\n";
	char text[1024], path[] = "/tmp/hwgw-config-test.XXXXXX", *big;
	size_t n = strlen(base);
	struct hwg_config c;
	struct hwg_error err = {0};

	/* "id = gw\0..." would read as "id = gw" and drop the rest */
	memcpy(text, base, n);
	memcpy(text + n, nul_line, sizeof(nul_line) - 1);
	write_file(path, text, n + sizeof(nul_line) - 1);
	hwg_config_defaults(&c);
	CHECK_EQ_INT(hwg_config_load(path, &c, &err), HWG_E_CONFIG);
	CHECK(strstr(err.message, path) != NULL);
	CHECK(strstr(err.message, ":11: a NUL byte") != NULL);
	CHECK_EQ_INT(c.vein_min_quality, 40); /* nothing was read */
	hwg_config_clear(&c);
	unlink(path);
	/* one byte over the limit; comments are text enough */
	if ((big = malloc(HWG_CONFIG_FILE_MAX + 1)) == NULL) {
		CHECK(big != NULL);
		return;
	}
	memset(big, ';', HWG_CONFIG_FILE_MAX + 1);
	memcpy(big, base, n);
	big[n] = '\n';
	strcpy(path, "/tmp/hwgw-config-test.XXXXXX");
	write_file(path, big, HWG_CONFIG_FILE_MAX + 1);
	hwg_config_defaults(&c);
	CHECK_EQ_INT(hwg_config_load(path, &c, &err), HWG_E_CONFIG);
	CHECK(strstr(err.message, "is larger than 1048576 bytes") != NULL);
	hwg_config_clear(&c);
	unlink(path);
	free(big);
}

int
main(void)
{
	HWG_RUN(test_defaults);
	HWG_RUN(test_values_read);
	HWG_RUN(test_refusals);
	HWG_RUN(test_example_documents_keys);
	HWG_RUN(test_parse_string);
	HWG_RUN(test_file_refusals);
	return HWG_TEST_END();
}
