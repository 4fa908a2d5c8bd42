/*
 * hwgwctl.c — the command line of hwgw: main, the command table, and the
 * commands every client machine needs: `keygen` (a client key pair) and
 * `call` (one signed request; the result is printed only after the
 * gateway's signature and request hash are verified).  Administrative
 * commands live in hwgwctl_admin.c; see hwgwctl.h for how a command file
 * joins the table.
 */
#include <errno.h>
#include <getopt.h>
#include <ini.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hwg_cbor.h"
#include "hwg_cose.h"
#include "hwg_secret.h"
#include "hwgw.h"
#include "hwgw_json.h"
#include "hwgwctl.h"
#include "hwgwctl_admin.h"
#include "hwgwctl_cert.h"
#include "hwgwctl_session.h"

static int cmd_keygen(int argc, char **argv);
static int cmd_call(int argc, char **argv);

/* usage: one synopsis per line; a line starting with a space continues the one before. */
static const struct hwgwctl_command commands[] = {
    {"keygen", cmd_keygen, "keygen --out PREFIX [--alg ed25519|p256]",
     "make a client key pair: PREFIX.key (mode 0600) and PREFIX.pub"},
    {"call", cmd_call,
     "call OP [--args-json JSON | --args-file FILE] (--socket PATH | --url URL)\n"
     " --client ID --key FILE --gateway-id ID --gateway-pubkey FILE [--profile FILE]\n"
     " [--session-file FILE] [--session-out FILE]",
     "send one signed request; print the verified result as JSON"},
    /* hwgwctl_admin.c */
    {"client", hwgwctl_cmd_client,
     "client add --id ID --role ROLE --pubkey FILE [--uid UID]... [--config FILE]\n"
     "client list [--config FILE]\n"
     "client remove --id ID [--config FILE]",
     "manage the registered clients (acts on the state directory)"},
    {"audit", hwgwctl_cmd_audit,
     "audit verify [--config FILE]\n"
     "audit query [--subject S] [--operator O] [--from T] [--to T] [--limit N]\n"
     " [--config FILE]",
     "check or search the audit log (acts on the state directory)"},
    /* hwgwctl_cert.c */
    {"cert", hwgwctl_cmd_cert,
     "cert verify (--code TEXT | --png FILE | --pdf FILE) --key FILE\n"
     "cert seal-key --out FILE [--from FILE]",
     "check a printed certificate's verification code offline with the gateway's seal key"},
};

#define N_COMMANDS (sizeof(commands) / sizeof(commands[0]))

static const char help_details[] =
    "call, in detail:\n"
    "  The request is signed with --key.  The answer is shown only when it is\n"
    "  signed by --gateway-pubkey and names the request sent; anything else\n"
    "  is an error and nothing is printed on stdout.\n"
    "  --args-json JSON  the operation's arguments, a JSON object.  A string\n"
    "                    \"hex:0a1b...\" is sent as a byte string; reals are\n"
    "                    refused.  Default {}.\n"
    "  --args-file FILE  the same JSON read from FILE (- for standard input):\n"
    "                    use it for PINs and passwords, which must not appear\n"
    "                    on a command line.  The bytes are wiped after use.\n"
    "  --session-file FILE  send the operator session token in FILE (- for\n"
    "                    standard input): the hex operator.verify shows, or the\n"
    "                    raw bytes.  The token is a bearer secret, so it is\n"
    "                    never taken on the command line, and FILE must be\n"
    "                    ours with mode 0600 or stricter (as --session-out\n"
    "                    writes it).\n"
    "  --session-out FILE   operator.verify only: write the new session's token\n"
    "                    as hex to FILE (mode 0600, replaced if there) and show\n"
    "                    \"session_file\" instead of the token.\n"
    "  result            pretty JSON on stdout; byte strings are written\n"
    "                    \"hex:...\", tags are dropped, map keys that are not\n"
    "                    text are written as strings.\n"
    "  --profile FILE    an INI file whose [client] section may set client_id,\n"
    "                    key, gateway_id, gateway_pubkey, and socket or url.\n"
    "                    Options on the command line win (--socket or --url\n"
    "                    replaces both socket and url).  Relative key and\n"
    "                    gateway_pubkey paths are relative to the profile.\n"
    "\n"
    "cert, in detail:\n"
    "  verify checks the QR code printed on a certificate: its text (--code,\n"
    "  - for a line of standard input, as zbarimg prints it too), a PNG of the\n"
    "  page (--png), or the PDF, whose page 1 is rendered at 150 dpi (--pdf).\n"
    "  --key is the gateway's seal public key (PEM).  A code that verifies is\n"
    "  printed: number, kind, date, gateway, document digest, and the original\n"
    "  of a reprint.  seal-key writes the seal key of gw.info's answer, as\n"
    "  `hwgwctl call gw.info` prints it after verifying it (--from FILE, or\n"
    "  standard input), to --out FILE as PEM.\n"
    "\n"
    "exit status:\n"
    "  0  done (call: the verified result is on stdout)\n"
    "  1  the gateway refused: \"error: <code>: <message>\" on stderr\n"
    "     (admin commands: refused, or the audit log does not verify;\n"
    "     cert verify: the code does not verify, or the page carries none)\n"
    "  2  usage, key, transport or verification error: \"hwgwctl: <message>\"\n";

int
hwgwctl_fail(int code, const char *fmt, ...)
{
	va_list ap;

	fputs("hwgwctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return code;
}

static const struct hwgwctl_command *
find_command(const char *name)
{
	for (size_t i = 0; i < N_COMMANDS; i++)
		if (strcmp(commands[i].name, name) == 0)
			return &commands[i];
	return NULL;
}

static void
print_synopsis(FILE *f, const struct hwgwctl_command *c)
{
	for (const char *p = c->usage; *p != '\0';) {
		size_t n = strcspn(p, "\n");

		if (*p == ' ')
			fprintf(f, "      %.*s\n", (int)n - 1, p + 1);
		else
			fprintf(f, "  hwgwctl %.*s\n", (int)n, p);
		p += n + (p[n] == '\n');
	}
}

static int
command_usage(const char *name, FILE *f, int code)
{
	const struct hwgwctl_command *c = find_command(name);

	if (c != NULL) {
		fprintf(f, "%s: %s\nusage:\n", c->name, c->summary);
		print_synopsis(f, c);
	}
	return code;
}

/* getopt_long with our own messages (opterr is left alone for other command files). */
static int
next_option(const char *cmd, int argc, char **argv, const struct option *opts, int *ch)
{
	int saved = opterr;

	opterr = 0;
	*ch = getopt_long(argc, argv, "", opts, NULL);
	opterr = saved;
	if (*ch != '?')
		return 0;
	hwgwctl_fail(HWGWCTL_EXIT_ERROR, "%s: unknown option or missing value: %s", cmd,
	             argv[optind - 1]);
	return command_usage(cmd, stderr, HWGWCTL_EXIT_ERROR);
}

/* Replace *slot with a copy of value. */
static int
set_string(char **slot, const char *value)
{
	char *s = strdup(value);

	if (s == NULL)
		return hwgwctl_fail(HWGWCTL_EXIT_ERROR, "out of memory");
	free(*slot);
	*slot = s;
	return 0;
}

/* ---------------------------------------------------------------- keygen */

static int
cmd_keygen(int argc, char **argv)
{
	static const struct option opts[] = {{"out", required_argument, NULL, 'o'},
	                                     {"alg", required_argument, NULL, 'a'},
	                                     {"help", no_argument, NULL, 'h'},
	                                     {NULL, 0, NULL, 0}};
	const char *prefix = NULL, *alg = "ed25519";
	char priv[4096], pub[4096];
	struct hwg_error err = {0};
	EVP_PKEY *k = NULL;
	int ch, rc, a;

	for (;;) {
		if ((rc = next_option("keygen", argc, argv, opts, &ch)) != 0)
			return rc;
		if (ch == -1)
			break;
		if (ch == 'h')
			return command_usage("keygen", stdout, HWGWCTL_EXIT_OK);
		if (ch == 'o')
			prefix = optarg;
		else
			alg = optarg;
	}
	if (prefix == NULL || prefix[0] == '\0' || optind < argc) {
		hwgwctl_fail(HWGWCTL_EXIT_ERROR, "keygen: %s",
		             optind < argc ? "unexpected argument" : "--out PREFIX is required");
		return command_usage("keygen", stderr, HWGWCTL_EXIT_ERROR);
	}
	if (strcmp(alg, "ed25519") == 0)
		a = HWG_COSE_EDDSA;
	else if (strcmp(alg, "p256") == 0)
		a = HWG_COSE_ES256;
	else
		return hwgwctl_fail(HWGWCTL_EXIT_ERROR, "keygen: --alg must be ed25519 or p256");
	if ((size_t)snprintf(priv, sizeof(priv), "%s.key", prefix) >= sizeof(priv) ||
	    (size_t)snprintf(pub, sizeof(pub), "%s.pub", prefix) >= sizeof(pub))
		return hwgwctl_fail(HWGWCTL_EXIT_ERROR, "keygen: --out prefix too long");
	if (hwgw_key_generate(a, &k, &err) != 0 || hwgw_key_save(k, priv, pub, &err) != 0) {
		EVP_PKEY_free(k);
		return hwgwctl_fail(HWGWCTL_EXIT_ERROR, "keygen: %s", err.message);
	}
	EVP_PKEY_free(k);
	printf("private key %s (mode 0600; it stays on this machine)\n"
	       "public key  %s (give it to the gateway administrator)\n",
	       priv, pub);
	return HWGWCTL_EXIT_OK;
}

/* ---------------------------------------------------------------- call */

/* Connection settings, from the command line or a profile; all malloc'd. */
struct conn {
	char *client, *key, *gateway_id, *gateway_pub, *socket, *url;
};

static void
conn_clear(struct conn *c)
{
	free(c->client);
	free(c->key);
	free(c->gateway_id);
	free(c->gateway_pub);
	free(c->socket);
	free(c->url);
	memset(c, 0, sizeof(*c));
}

struct profile {
	struct conn c;
	char problem[200]; /* the first one found */
};

static char **
profile_slot(struct conn *c, const char *name)
{
	static const struct {
		const char *name;
		size_t off;
	} keys[] = {
	    {"client_id", offsetof(struct conn, client)},
	    {"key", offsetof(struct conn, key)},
	    {"gateway_id", offsetof(struct conn, gateway_id)},
	    {"gateway_pubkey", offsetof(struct conn, gateway_pub)},
	    {"socket", offsetof(struct conn, socket)},
	    {"url", offsetof(struct conn, url)},
	};

	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (strcmp(keys[i].name, name) == 0)
			return (char **)((char *)c + keys[i].off);
	return NULL;
}

static int
on_profile(void *user, const char *section, const char *name, const char *value)
{
	struct profile *p = user;
	char **slot = profile_slot(&p->c, name);
	const char *why = NULL;

	if (strcmp(section, "client") != 0)
		why = "only a [client] section is read";
	else if (slot == NULL)
		why = "unknown key (client_id, key, gateway_id, gateway_pubkey, socket, url)";
	else if (*slot != NULL)
		why = "key given twice";
	else if (value[0] == '\0')
		why = "empty value";
	else if ((*slot = strdup(value)) == NULL)
		why = "out of memory";
	if (why != NULL && p->problem[0] == '\0')
		snprintf(p->problem, sizeof(p->problem), "[%s] %.40s: %s", section, name, why);
	return why == NULL;
}

/* A relative path in the profile is relative to the profile's directory. */
static int
profile_path(const char *profile, char **value)
{
	const char *slash = strrchr(profile, '/');
	size_t dir, n;
	char *s;

	if (*value == NULL || (*value)[0] == '/' || slash == NULL)
		return 0;
	dir = (size_t)(slash - profile) + 1;
	n = dir + strlen(*value) + 1;
	if ((s = malloc(n)) == NULL)
		return -1;
	memcpy(s, profile, dir);
	memcpy(s + dir, *value, n - dir);
	free(*value);
	*value = s;
	return 0;
}

/* Read path into p; a message has already been printed when this fails. */
static int
profile_read(const char *path, struct profile *p)
{
	int rc = ini_parse(path, on_profile, p);

	if (rc == -1)
		return hwgwctl_fail(HWGWCTL_EXIT_ERROR, "call: cannot read the profile %s: %s",
		                    path, strerror(errno));
	if (rc == -2)
		return hwgwctl_fail(HWGWCTL_EXIT_ERROR, "out of memory");
	if (rc != 0)
		return hwgwctl_fail(HWGWCTL_EXIT_ERROR, "call: profile %s line %d: %s", path, rc,
		                    p->problem[0] != '\0' ? p->problem : "not INI syntax");
	if (profile_path(path, &p->c.key) != 0 || profile_path(path, &p->c.gateway_pub) != 0)
		return hwgwctl_fail(HWGWCTL_EXIT_ERROR, "out of memory");
	return 0;
}

/* Take what the command line left unset from the profile. */
static void
conn_merge(struct conn *cmd, struct conn *prof)
{
	char **pairs[][2] = {{&cmd->client, &prof->client},
	                     {&cmd->key, &prof->key},
	                     {&cmd->gateway_id, &prof->gateway_id},
	                     {&cmd->gateway_pub, &prof->gateway_pub}};

	for (size_t i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++)
		if (*pairs[i][0] == NULL) {
			*pairs[i][0] = *pairs[i][1];
			*pairs[i][1] = NULL;
		}
	/* the transport is one setting: --socket or --url replaces both */
	if (cmd->socket == NULL && cmd->url == NULL) {
		cmd->socket = prof->socket;
		cmd->url = prof->url;
		prof->socket = prof->url = NULL;
	}
}

static const char *
conn_missing(const struct conn *c)
{
	if (c->client == NULL)
		return "no client id (--client, or client_id in the profile)";
	if (c->key == NULL)
		return "no client key (--key, or key in the profile)";
	if (c->gateway_id == NULL)
		return "no gateway id (--gateway-id, or gateway_id in the profile)";
	if (c->gateway_pub == NULL)
		return "no gateway public key (--gateway-pubkey, or gateway_pubkey in the profile)";
	if (c->socket == NULL && c->url == NULL)
		return "no transport (--socket or --url, or socket or url in the profile)";
	if (c->socket != NULL && c->url != NULL)
		return "both socket and url in the profile: choose with --socket or --url";
	return NULL;
}

/* A gateway message for a terminal: control characters (C0, DEL, C1) shown as '?'. */
static void
print_clean(FILE *f, const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
		if (p[0] == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f) {
			fputc('?', f);
			p++;
		} else {
			fputc(*p < 0x20 || *p == 0x7f ? '?' : *p, f);
		}
	}
}

/* What call sends besides the operation and its arguments. */
struct call_opts {
	const struct hwg_secret *session; /* token, or NULL */
	const char *session_out;          /* operator.verify: write the token here */
};

/* Print the verified result (with --session-out, the token goes to its file instead). */
static int
call_print(const struct call_opts *co, const cbor_item_t *result)
{
	struct hwg_error err = {0};
	cbor_item_t *shown = NULL;
	char *json = NULL;
	int rc = HWGWCTL_EXIT_ERROR;

	if (co->session_out != NULL &&
	    (rc = hwgwctl_session_write(co->session_out, result, &shown)) != 0)
		return rc;
	rc = HWGWCTL_EXIT_ERROR;
	if (hwgw_cbor_to_json(shown != NULL ? shown : result, &json, &err) != 0)
		hwgwctl_fail(rc, "the verified result cannot be shown: %s", err.message);
	else if (printf("%s\n", json) < 0 || fflush(stdout) != 0)
		hwgwctl_fail(rc, "cannot write the result: %s", strerror(errno));
	else
		rc = HWGWCTL_EXIT_OK;
	if (json != NULL)
		hwg_wipe(json, strlen(json)); /* it may hold a session token */
	free(json);
	if (shown != NULL)
		cbor_decref(&shown);
	return rc;
}

/* One exchange with the gateway: the keys, the signed request, the verified answer. */
struct exchange {
	EVP_PKEY *key, *gw;
	struct hwgw_ctx *c;
	uint8_t *req, *resp;
	size_t req_len, resp_len;
	struct hwgw_response r;
};

static void
exchange_clear(struct exchange *x)
{
	if (x->r.result != NULL)
		hwg_cbor_wipe_strings(x->r.result); /* a new session token, personal data */
	hwgw_response_clear(&x->r);
	if (x->req != NULL)
		hwg_wipe(x->req, x->req_len); /* the request may carry a PIN or a session token */
	free(x->req);
	if (x->resp != NULL)
		hwg_wipe(x->resp, x->resp_len); /* the response may carry a new session token */
	free(x->resp);
	hwgw_ctx_free(x->c);
	EVP_PKEY_free(x->key);
	EVP_PKEY_free(x->gw);
}

/* Load the keys and sign the request for op (with the session token, if any). */
static int
call_build(struct exchange *x, const struct conn *o, const char *op, const cbor_item_t *args,
           const struct call_opts *co, struct hwg_error *err)
{
	struct hwgw_request_opts ro = {0};

	if (co->session != NULL) {
		ro.session = (const uint8_t *)co->session->data;
		ro.session_len = co->session->len;
	}
	if (hwgw_key_load_private(o->key, &x->key, err) != 0 ||
	    hwgw_key_load_public(o->gateway_pub, &x->gw, err) != 0 ||
	    hwgw_ctx_new(o->client, o->gateway_id, x->key, x->gw, &x->c, err) != 0)
		return -1;
	return hwgw_request_build(x->c, op, args, &ro, &x->req, &x->req_len, err);
}

/* Send the request over the socket or HTTP, and verify the answer. */
static int
call_exchange(struct exchange *x, const struct conn *o, const char *op, struct hwg_error *err)
{
	int rc =
	    o->socket != NULL
	        ? hwgw_send_unix(o->socket, x->req, x->req_len, &x->resp, &x->resp_len, err)
	        : hwgw_send_http(o->url, op, x->req, x->req_len, &x->resp, &x->resp_len, NULL, err);

	if (rc != 0)
		return rc;
	return hwgw_response_verify(x->c, x->req, x->req_len, x->resp, x->resp_len, &x->r, err);
}

/* The gateway's refusal: "error: <code>: <message>" on stderr. */
static int
call_print_refusal(const struct hwgw_response *r)
{
	fprintf(stderr, "error: %s: ", r->error_code);
	print_clean(stderr, r->error_message);
	if (r->error_tries >= 0)
		fprintf(stderr, " (tries left: %d)", r->error_tries);
	fputc('\n', stderr);
	return HWGWCTL_EXIT_REFUSED;
}

static int
call_send(const struct conn *o, const char *op, const cbor_item_t *args, const struct call_opts *co)
{
	struct hwg_error err = {0};
	struct exchange x;
	int rc;

	memset(&x, 0, sizeof(x));
	if (call_build(&x, o, op, args, co, &err) != 0 || call_exchange(&x, o, op, &err) != 0)
		rc = hwgwctl_fail(HWGWCTL_EXIT_ERROR, "%s", err.message);
	else if (x.r.result == NULL)
		rc = call_print_refusal(&x.r);
	else
		rc = call_print(co, x.r.result);
	exchange_clear(&x);
	return rc;
}

#define ARGS_FILE_MAX 65536

/* Read --args-file into a locked buffer (it may hold a PIN); the caller frees it. */
static int
read_args_file(const char *path, struct hwg_secret **out)
{
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "re");
	struct hwg_secret *s;
	size_t n;

	*out = NULL;
	if (f == NULL)
		return hwgwctl_fail(HWGWCTL_EXIT_ERROR, "call: --args-file %s: %s", path,
		                    strerror(errno));
	if ((s = hwg_secret_new(ARGS_FILE_MAX)) == NULL) {
		if (f != stdin)
			fclose(f);
		return hwgwctl_fail(HWGWCTL_EXIT_ERROR, "out of memory");
	}
	n = fread(s->data, 1, ARGS_FILE_MAX, f);
	s->len = n;
	if (f != stdin)
		fclose(f);
	if (n == ARGS_FILE_MAX || memchr(s->data, '\0', n) != NULL) {
		hwg_secret_free(s);
		return hwgwctl_fail(HWGWCTL_EXIT_ERROR,
		                    "call: --args-file %s: over %d bytes or not text", path,
		                    ARGS_FILE_MAX - 1);
	}
	*out = s;
	return 0;
}

/* What `hwgwctl call` was given on its command line. */
struct call_cmd {
	struct conn conn;
	const char *op, *profile, *args_json, *args_file, *session_file;
	struct call_opts co;
};

/* Record one option of call (ch as in call_parse's table). */
static int
call_option(struct call_cmd *a, int ch, const char *arg)
{
	char **slot;

	switch (ch) {
	case 'j':
		a->args_json = arg;
		return 0;
	case 'f':
		a->args_file = arg;
		return 0;
	case 'P':
		a->profile = arg;
		return 0;
	case 'S':
		a->session_file = arg;
		return 0;
	case 'O':
		a->co.session_out = arg;
		return 0;
	case 's':
		slot = &a->conn.socket;
		break;
	case 'u':
		slot = &a->conn.url;
		break;
	case 'c':
		slot = &a->conn.client;
		break;
	case 'k':
		slot = &a->conn.key;
		break;
	case 'g':
		slot = &a->conn.gateway_id;
		break;
	default:
		slot = &a->conn.gateway_pub;
		break;
	}
	return set_string(slot, arg);
}

/* The command line into a; *help when --help was shown (rc is then its exit status). */
static int
call_parse(int argc, char **argv, struct call_cmd *a, int *help)
{
	static const struct option opts[] = {{"args-json", required_argument, NULL, 'j'},
	                                     {"args-file", required_argument, NULL, 'f'},
	                                     {"socket", required_argument, NULL, 's'},
	                                     {"url", required_argument, NULL, 'u'},
	                                     {"client", required_argument, NULL, 'c'},
	                                     {"key", required_argument, NULL, 'k'},
	                                     {"gateway-id", required_argument, NULL, 'g'},
	                                     {"gateway-pubkey", required_argument, NULL, 'p'},
	                                     {"profile", required_argument, NULL, 'P'},
	                                     {"session-file", required_argument, NULL, 'S'},
	                                     {"session-out", required_argument, NULL, 'O'},
	                                     {"help", no_argument, NULL, 'h'},
	                                     {NULL, 0, NULL, 0}};
	int ch, rc;

	for (;;) {
		if ((rc = next_option("call", argc, argv, opts, &ch)) != 0)
			return rc;
		if (ch == -1)
			break;
		if (ch == 'h') {
			*help = 1;
			return command_usage("call", stdout, HWGWCTL_EXIT_OK);
		}
		if ((rc = call_option(a, ch, optarg)) != 0)
			return rc;
	}
	if (optind != argc - 1) {
		hwgwctl_fail(HWGWCTL_EXIT_ERROR, "call: %s",
		             optind >= argc ? "no operation named" : "one operation only");
		return command_usage("call", stderr, HWGWCTL_EXIT_ERROR);
	}
	a->op = argv[optind];
	return 0;
}

/* The connection settings: the command line's, then what the profile adds. */
static int
call_conn(struct call_cmd *a, struct profile *prof)
{
	const char *missing;

	if (a->conn.socket != NULL && a->conn.url != NULL)
		return hwgwctl_fail(HWGWCTL_EXIT_ERROR, "call: --socket or --url, not both");
	if (a->profile != NULL) {
		if (profile_read(a->profile, prof) != 0)
			return HWGWCTL_EXIT_ERROR;
		conn_merge(&a->conn, &prof->c);
	}
	if ((missing = conn_missing(&a->conn)) != NULL)
		return hwgwctl_fail(HWGWCTL_EXIT_ERROR, "call: %s", missing);
	return 0;
}

/* Options that do not go together. */
static int
call_conflicts(const struct call_cmd *a)
{
	if (a->args_json != NULL && a->args_file != NULL)
		return hwgwctl_fail(HWGWCTL_EXIT_ERROR,
		                    "call: --args-json or --args-file, not both");
	if (a->co.session_out != NULL && strcmp(a->op, "operator.verify") != 0)
		return hwgwctl_fail(HWGWCTL_EXIT_ERROR,
		                    "call: --session-out is for operator.verify only");
	if (a->args_file != NULL && a->session_file != NULL && strcmp(a->args_file, "-") == 0 &&
	    strcmp(a->session_file, "-") == 0)
		return hwgwctl_fail(
		    HWGWCTL_EXIT_ERROR,
		    "call: --args-file and --session-file cannot both read standard input");
	return 0;
}

/* Read --args-file (into *file_json) and --session-file (into *session). */
static int
call_read_files(struct call_cmd *a, struct hwg_secret **file_json, struct hwg_secret **session)
{
	if (a->args_file != NULL) {
		if (read_args_file(a->args_file, file_json) != 0)
			return HWGWCTL_EXIT_ERROR;
		a->args_json = (*file_json)->data;
	}
	if (a->session_file != NULL) {
		if (hwgwctl_session_read(a->session_file, session) != 0)
			return HWGWCTL_EXIT_ERROR;
		a->co.session = *session;
	}
	return 0;
}

/* The arguments' JSON as CBOR (*args stays NULL without any). */
static int
call_args(const struct call_cmd *a, cbor_item_t **args)
{
	struct hwg_error err = {0};

	if (a->args_json != NULL && hwgw_json_to_cbor(a->args_json, args, &err) != 0)
		return hwgwctl_fail(HWGWCTL_EXIT_ERROR, "call: --args-%s: %s",
		                    a->args_file != NULL ? "file" : "json", err.message);
	return 0;
}

static int
cmd_call(int argc, char **argv)
{
	struct call_cmd a = {0};
	struct profile prof;
	struct hwg_secret *file_json = NULL, *session = NULL;
	cbor_item_t *args = NULL;
	int help = 0, rc;

	memset(&prof, 0, sizeof(prof));
	if ((rc = call_parse(argc, argv, &a, &help)) == 0 && !help &&
	    (rc = call_conn(&a, &prof)) == 0 && (rc = call_conflicts(&a)) == 0 &&
	    (rc = call_read_files(&a, &file_json, &session)) == 0 &&
	    (rc = call_args(&a, &args)) == 0)
		rc = call_send(&a.conn, a.op, args, &a.co);
	if (args != NULL) {
		hwg_cbor_wipe_strings(args);
		cbor_decref(&args);
	}
	hwg_secret_free(file_json);
	hwg_secret_free(session);
	conn_clear(&a.conn);
	conn_clear(&prof.c);
	return rc;
}

/* ---------------------------------------------------------------- main */

static void
usage(FILE *f)
{
	fprintf(f, "usage: hwgwctl COMMAND [options]   (hwgwctl COMMAND --help for one)\n"
	           "       hwgwctl --help | --version\n");
	for (size_t i = 0; i < N_COMMANDS; i++) {
		fprintf(f, "\n%s: %s\n", commands[i].name, commands[i].summary);
		print_synopsis(f, &commands[i]);
	}
	fprintf(f, "\n%s", help_details);
}

int
main(int argc, char **argv)
{
	const struct hwgwctl_command *c;

	if (argc < 2) {
		usage(stderr);
		return HWGWCTL_EXIT_ERROR;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		usage(stdout);
		return HWGWCTL_EXIT_OK;
	}
	if (strcmp(argv[1], "--version") == 0) {
		printf("hwgwctl %s\n", HWG_VERSION);
		return HWGWCTL_EXIT_OK;
	}
	if ((c = find_command(argv[1])) == NULL) {
		hwgwctl_fail(HWGWCTL_EXIT_ERROR,
		             "unknown command \"%s\" (hwgwctl --help lists them)", argv[1]);
		return HWGWCTL_EXIT_ERROR;
	}
	if (argc == 3 && (strcmp(argv[2], "--help") == 0 || strcmp(argv[2], "-h") == 0))
		return command_usage(c->name, stdout, HWGWCTL_EXIT_OK);
	return c->run(argc - 1, argv + 1);
}
