/*
 * deploy_probe.c — an application of the installed libhwgw, as a city's
 * integrator would write one: it includes only <hwgw.h> and is built by
 * test_install.sh with nothing but `pkg-config --cflags --libs libhwgw`
 * (never by CMake, which would hand it the build tree).  It makes a key,
 * signs a request, and sends it to a socket nobody listens on, checking
 * each answer, so that the headers, the exported symbols and the
 * libraries the .pc names are all exercised.
 *
 *   deploy_probe SOCKET-PATH   (a path where no gateway listens)
 */
#include <hwgw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int
fail(const char *what, const struct hwg_error *err)
{
	fprintf(stderr, "deploy_probe: %s: %s (%s)\n", what, err->message, hwg_err_code(err->code));
	return 1;
}

int
main(int argc, char **argv)
{
	struct hwg_error err = {0};
	struct hwgw_ctx *ctx = NULL;
	EVP_PKEY *key = NULL;
	cbor_item_t *args = NULL;
	uint8_t *req = NULL, *resp = NULL;
	size_t req_len = 0, resp_len = 0;
	int rc = 1, sent;

	if (argc != 2) {
		fprintf(stderr, "usage: deploy_probe SOCKET-PATH\n");
		return 2;
	}
	if (hwgw_key_generate(HWGW_ALG_EDDSA, &key, &err) != 0)
		return fail("hwgw_key_generate", &err);
	if (hwgw_ctx_new("probe", "gw.example", key, NULL, &ctx, &err) != 0) {
		EVP_PKEY_free(key);
		return fail("hwgw_ctx_new", &err);
	}
	EVP_PKEY_free(key); /* the context holds its own reference */
	if ((args = cbor_new_definite_map(0)) == NULL) {
		fprintf(stderr, "deploy_probe: cbor_new_definite_map failed\n");
		goto out;
	}
	if (hwgw_request_build(ctx, "gw.info", args, NULL, &req, &req_len, &err) != 0) {
		fail("hwgw_request_build", &err);
		goto out;
	}
	if (req_len < 64 || req[0] != 0xd2) { /* COSE_Sign1: tag 18 */
		fprintf(stderr, "deploy_probe: %zu-byte request is not a COSE_Sign1\n", req_len);
		goto out;
	}
	sent = hwgw_send_unix(argv[1], req, req_len, &resp, &resp_len, &err);
	if (sent == 0 || sent != err.code || strcmp(hwg_err_code(sent), "unknown") == 0 ||
	    strstr(err.message, argv[1]) == NULL) {
		fprintf(stderr, "deploy_probe: sending to %s: got %d \"%s\"\n", argv[1], sent,
		        err.message);
		goto out;
	}
	printf("deploy_probe: signed a %zu-byte gw.info request; sending it: %s: %s\n", req_len,
	       hwg_err_code(sent), err.message);
	rc = 0;
out:
	free(req);
	free(resp);
	if (args != NULL)
		cbor_decref(&args);
	hwgw_ctx_free(ctx);
	return rc;
}
