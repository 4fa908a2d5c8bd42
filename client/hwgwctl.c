/*
 * hwgwctl.c — the command line of hwgw: keys, signed calls, and (in
 * hwgwctl_admin.c) client registration and audit review.
 *
 * Exit codes: 0 success; 1 the gateway refused (code and message on
 * stderr) or a check failed; 2 usage, transport or verification error.
 */
#include <getopt.h>
#include <ini.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hwg_cose.h"
#include "hwgw.h"
#include "hwgw_json.h"
#include "hwgwctl_admin.h"

struct command {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *help;
};

static int
fail(const char *msg)
{
	fprintf(stderr, "hwgwctl: %s\n", msg);
	return 2;
}

/* ---------------------------------------------------------------- keygen */

static int
cmd_keygen(int argc, char **argv)
{
	static const struct option opts[] = {{"out", required_argument, NULL, 'o'},
					     {"alg", required_argument, NULL, 'a'},
					     {NULL, 0, NULL, 0}};
	const char *prefix = NULL, *alg = "ed25519";
	char priv[1024], pub[1024];
	struct hwg_error err = {0};
	EVP_PKEY *k = NULL;
	int ch, a;

	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (ch == 'o')
			prefix = optarg;
		else if (ch == 'a')
			alg = optarg;
		else
			return 2;
	}
	if (prefix == NULL)
		return fail("usage: hwgwctl keygen --out PREFIX [--alg ed25519|p256]");
	if (strcmp(alg, "ed25519") == 0)
		a = HWG_COSE_EDDSA;
	else if (strcmp(alg, "p256") == 0)
		a = HWG_COSE_ES256;
	else
		return fail("--alg must be ed25519 or p256");
	snprintf(priv, sizeof(priv), "%s.key", prefix);
	snprintf(pub, sizeof(pub), "%s.pub", prefix);
	if (hwgw_key_generate(a, &k, &err) != 0 || hwgw_key_save(k, priv, pub, &err) != 0) {
		EVP_PKEY_free(k);
		return fail(err.message);
	}
	EVP_PKEY_free(k);
	printf("private key %s (keep it; mode 0600)\npublic key  %s (give it to the gateway "
	       "administrator)\n",
	       priv, pub);
	return 0;
}

/* ---------------------------------------------------------------- call */

struct call_opts {
	char *client, *key, *gateway_id, *gateway_pub, *socket, *url, *args;
};

static int
on_profile(void *user, const char *section, const char *name, const char *value)
{
	struct call_opts *o = user;
	char **slot = NULL;

	if (strcmp(section, "client") != 0)
		return 0;
	if (strcmp(name, "client_id") == 0)
		slot = &o->client;
	else if (strcmp(name, "key") == 0)
		slot = &o->key;
	else if (strcmp(name, "gateway_id") == 0)
		slot = &o->gateway_id;
	else if (strcmp(name, "gateway_pubkey") == 0)
		slot = &o->gateway_pub;
	else if (strcmp(name, "socket") == 0)
		slot = &o->socket;
	else if (strcmp(name, "url") == 0)
		slot = &o->url;
	else
		return 0;
	if (*slot == NULL) /* the command line wins */
		*slot = strdup(value);
	return 1;
}

static int
call_send(struct call_opts *o, const char *op, cbor_item_t *args)
{
	struct hwg_error err = {0};
	struct hwgw_response r;
	EVP_PKEY *key = NULL, *gw = NULL;
	struct hwgw_ctx *c = NULL;
	uint8_t *req = NULL, *resp = NULL;
	size_t req_len = 0, resp_len = 0;
	char *json = NULL;
	int rc = 2;

	memset(&r, 0, sizeof(r));
	if (hwgw_key_load_private(o->key, &key, &err) != 0 ||
	    hwgw_key_load_public(o->gateway_pub, &gw, &err) != 0 ||
	    hwgw_ctx_new(o->client, o->gateway_id, key, gw, &c, &err) != 0 ||
	    hwgw_request_build(c, op, args, NULL, &req, &req_len, &err) != 0 ||
	    (o->socket != NULL ? hwgw_send_unix(o->socket, req, req_len, &resp, &resp_len, &err)
			       : hwgw_send_http(o->url, op, req, req_len, &resp, &resp_len, NULL,
						&err)) != 0 ||
	    hwgw_response_verify(c, req, req_len, resp, resp_len, &r, &err) != 0) {
		fail(err.message);
		goto out;
	}
	if (r.result == NULL) {
		fprintf(stderr, "error: %s: %s\n", r.error_code, r.error_message);
		rc = 1;
	} else if (hwgw_cbor_to_json(r.result, &json, &err) != 0) {
		fail(err.message);
	} else {
		printf("%s\n", json);
		rc = 0;
	}
out:
	free(json);
	hwgw_response_clear(&r);
	free(req);
	free(resp);
	hwgw_ctx_free(c);
	EVP_PKEY_free(key);
	EVP_PKEY_free(gw);
	return rc;
}

static int
cmd_call(int argc, char **argv)
{
	static const struct option opts[] = {
		{"args-json", required_argument, NULL, 'j'}, {"socket", required_argument, NULL, 's'},
		{"url", required_argument, NULL, 'u'},       {"client", required_argument, NULL, 'c'},
		{"key", required_argument, NULL, 'k'},       {"gateway-id", required_argument, NULL, 'g'},
		{"gateway-pubkey", required_argument, NULL, 'p'},
		{"profile", required_argument, NULL, 'P'},   {NULL, 0, NULL, 0}};
	struct call_opts o = {0};
	struct hwg_error err = {0};
	const char *profile = NULL, *op = NULL;
	cbor_item_t *args = NULL;
	int ch, rc;

	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		char **slot = ch == 'j'   ? &o.args
			      : ch == 's' ? &o.socket
			      : ch == 'u' ? &o.url
			      : ch == 'c' ? &o.client
			      : ch == 'k' ? &o.key
			      : ch == 'g' ? &o.gateway_id
			      : ch == 'p' ? &o.gateway_pub
					  : NULL;
		if (ch == 'P')
			profile = optarg;
		else if (slot != NULL)
			*slot = strdup(optarg);
		else
			return 2;
	}
	if (optind < argc)
		op = argv[optind];
	if (profile != NULL && ini_parse(profile, on_profile, &o) != 0) {
		rc = fail("cannot read the profile");
		goto out;
	}
	if (op == NULL || o.client == NULL || o.key == NULL || o.gateway_id == NULL ||
	    o.gateway_pub == NULL || (o.socket == NULL) == (o.url == NULL)) {
		rc = fail("usage: hwgwctl call OP [--args-json JSON] (--socket PATH | --url URL) "
			  "--client ID --key FILE --gateway-id ID --gateway-pubkey FILE "
			  "[--profile FILE]");
		goto out;
	}
	if (o.args != NULL && hwgw_json_to_cbor(o.args, &args, &err) != 0) {
		rc = fail(err.message);
		goto out;
	}
	rc = call_send(&o, op, args);
out:
	if (args != NULL)
		cbor_decref(&args);
	free(o.client);
	free(o.key);
	free(o.gateway_id);
	free(o.gateway_pub);
	free(o.socket);
	free(o.url);
	free(o.args);
	return rc;
}

/* ---------------------------------------------------------------- main */

static const struct command commands[] = {
	{"keygen", cmd_keygen, "keygen --out PREFIX [--alg ed25519|p256]   make a client key pair"},
	{"call", cmd_call,
	 "call OP [--args-json JSON] (--socket P | --url U) --client ID --key F\n"
	 "       --gateway-id ID --gateway-pubkey F [--profile F]    signed call, verified"
	 " result as JSON\n"
	 "       (byte strings are written \"hex:...\")"},
	{"client", hwgwctl_cmd_client,
	 "client add --id ID --role ROLE --pubkey F [--uid UID]... | list | remove --id ID\n"
	 "       [--config F]                             manage clients (state directory)"},
	{"audit", hwgwctl_cmd_audit,
	 "audit verify | query [--subject S] [--operator O] [--from T] [--to T] [--limit N]\n"
	 "       [--config F]                             check or search the audit log"},
};

static void
usage(FILE *f)
{
	fprintf(f, "usage: hwgwctl COMMAND [options]\n\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %s\n", commands[i].help);
	fprintf(f, "\nexit: 0 done, 1 refused by the gateway or check failed, 2 usage, "
		   "transport or verification error\n");
}

int
main(int argc, char **argv)
{
	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	if (strcmp(argv[1], "--version") == 0) {
		printf("hwgwctl %s\n", HWG_VERSION);
		return 0;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(argv[1], commands[i].name) == 0)
			return commands[i].run(argc - 1, argv + 1);
	fprintf(stderr, "hwgwctl: unknown command \"%s\"\n", argv[1]);
	usage(stderr);
	return 2;
}
