/*
 * hwgwctl_cert.c — `hwgwctl cert verify` and `hwgwctl cert seal-key` (see
 * hwgwctl_cert.h).  verify takes the code's text, a PNG of the page or the
 * PDF (hwgwctl_scan.c reads the QR codes), checks it with the seal key
 * (crypto/hwg_certcode.c) and prints what the gateway sealed; seal-key
 * writes the "seal_key" of `hwgwctl call gw.info`'s verified answer as a
 * PEM file.
 *
 * Exit codes: 0 verified (or written); 1 refused: the code does not
 * verify, or the page carries none (the reason is printed); 2 usage or a
 * file that cannot be read.
 */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hwg_certcode.h"
#include "hwg_cose.h"
#include "hwgw.h"
#include "hwgwctl.h"
#include "hwgwctl_cert.h"
#include "hwgwctl_scan.h"

#define ZBAR_PREFIX "QR-Code:" /* how zbarimg prints a QR code without --raw */

/* ---------------------------------------------------------------- verify */

struct verify_cmd {
	const char *code, *png, *pdf, *key;
};

static int
verify_usage(const char *why)
{
	return hwgwctl_fail(HWGWCTL_EXIT_ERROR,
	                    "cert verify: %s\n"
	                    "usage: hwgwctl cert verify (--code TEXT | --png FILE | --pdf FILE) "
	                    "--key FILE",
	                    why);
}

static int
verify_parse(int argc, char **argv, struct verify_cmd *a)
{
	static const struct option opts[] = {{"code", required_argument, NULL, 'c'},
	                                     {"png", required_argument, NULL, 'p'},
	                                     {"pdf", required_argument, NULL, 'd'},
	                                     {"key", required_argument, NULL, 'k'},
	                                     {NULL, 0, NULL, 0}};
	int ch, sources;

	opterr = 0;
	optind = 1;
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (ch == 'c')
			a->code = optarg;
		else if (ch == 'p')
			a->png = optarg;
		else if (ch == 'd')
			a->pdf = optarg;
		else if (ch == 'k')
			a->key = optarg;
		else
			return verify_usage("unknown option or missing value");
	}
	sources = (a->code != NULL) + (a->png != NULL) + (a->pdf != NULL);
	if (optind != argc)
		return verify_usage("unexpected argument");
	if (sources != 1)
		return verify_usage("give one of --code, --png and --pdf");
	if (a->key == NULL)
		return verify_usage("--key FILE (the gateway's seal public key) is required");
	return 0;
}

/* One line of standard input (--code -), its line end dropped. */
static char *
code_from_stdin(void)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t n = getline(&line, &cap, stdin);

	if (n < 0) {
		free(line);
		return NULL;
	}
	while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
		line[--n] = '\0';
	return line;
}

static void
print_summary(const struct hwg_certcode_summary *s)
{
	const char *title = hwg_certcode_kind_title(s->kind);

	printf("verified: the gateway's seal key signed this code\n");
	printf("number: %s\n", s->no);
	printf("kind: %s%s%s%s\n", s->kind, title ? " (" : "", title ? title : "",
	       title ? ")" : "");
	printf("date: %s\n", s->date);
	printf("gateway: %s\n", s->gw);
	printf("document: ");
	for (size_t i = 0; i < sizeof(s->doc); i++)
		printf("%02x", s->doc[i]);
	printf("\n");
	if (s->orig[0] != '\0')
		printf("reprint of: %s\n", s->orig);
}

/* Check one code's text; on a refusal say why (exit 1). */
static int
verify_text(const char *text, EVP_PKEY *key, struct hwg_certcode_summary *s)
{
	struct hwg_error err = {0};
	size_t skip =
	    strncmp(text, ZBAR_PREFIX, strlen(ZBAR_PREFIX)) == 0 ? strlen(ZBAR_PREFIX) : 0;

	if (hwg_certcode_verify(text + skip, strlen(text + skip), key, s, &err) != 0)
		return hwgwctl_fail(HWGWCTL_EXIT_REFUSED, "cert verify: refused (%s): %s",
		                    hwg_err_code(err.code), err.message);
	return 0;
}

/* The page's codes: every one that is a hwgw code must verify, and say the same. */
static int
verify_codes(const struct hwgwctl_codes *c, EVP_PKEY *key, struct hwg_certcode_summary *s)
{
	struct hwg_certcode_summary other;
	size_t ours = 0;
	int rc;

	for (size_t i = 0; i < c->n; i++) {
		if (strncmp(c->text[i], HWG_CERTCODE_PREFIX, strlen(HWG_CERTCODE_PREFIX)) != 0)
			continue;
		if ((rc = verify_text(c->text[i], key, ours == 0 ? s : &other)) != 0)
			return rc;
		if (ours++ > 0 && memcmp(&other, s, sizeof(other)) != 0)
			return hwgwctl_fail(HWGWCTL_EXIT_REFUSED,
			                    "cert verify: refused: the page carries two different "
			                    "verification codes");
	}
	if (ours == 0)
		return hwgwctl_fail(
		    HWGWCTL_EXIT_REFUSED,
		    "cert verify: refused: none of the %zu QR code(s) on the page is "
		    "a hwgw verification code (" HWG_CERTCODE_PREFIX "...)",
		    c->n);
	return 0;
}

/* The codes of the page in a.png or a.pdf (HWG_E_NOT_FOUND: none: a refusal, exit 1). */
static int
verify_scan(const struct verify_cmd *a, EVP_PKEY *key, struct hwg_certcode_summary *s)
{
	struct hwgwctl_codes c;
	struct hwg_error err = {0};
	int rc = a->png != NULL ? hwgwctl_scan_png(a->png, &c, &err)
	                        : hwgwctl_scan_pdf(a->pdf, &c, &err);

	if (rc == HWG_E_NOT_FOUND)
		return hwgwctl_fail(HWGWCTL_EXIT_REFUSED, "cert verify: refused: %s", err.message);
	if (rc != 0)
		return hwgwctl_fail(HWGWCTL_EXIT_ERROR, "cert verify: %s", err.message);
	rc = verify_codes(&c, key, s);
	hwgwctl_codes_clear(&c);
	return rc;
}

static int
cert_verify(int argc, char **argv)
{
	struct verify_cmd a = {0};
	struct hwg_certcode_summary s;
	struct hwg_error err = {0};
	EVP_PKEY *key = NULL;
	char *line = NULL;
	int rc;

	if ((rc = verify_parse(argc, argv, &a)) != 0)
		return rc;
	if (hwgw_key_load_public(a.key, &key, &err) != 0)
		return hwgwctl_fail(HWGWCTL_EXIT_ERROR, "cert verify: --key %s: %s", a.key,
		                    err.message);
	if (a.code != NULL && strcmp(a.code, "-") == 0 && (line = code_from_stdin()) == NULL)
		rc = hwgwctl_fail(HWGWCTL_EXIT_ERROR, "cert verify: no code on standard input");
	else if (a.code != NULL)
		rc = verify_text(line != NULL ? line : a.code, key, &s);
	else
		rc = verify_scan(&a, key, &s);
	if (rc == 0)
		print_summary(&s);
	free(line);
	EVP_PKEY_free(key);
	return rc;
}

/* ---------------------------------------------------------------- seal-key */

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* The EC P-256 key "hex:<DER SubjectPublicKeyInfo>" names (as hwgwctl call writes bytes), or NULL.
 */
static EVP_PKEY *
p256_from_hex(const char *s)
{
	uint8_t der[256]; /* a P-256 SubjectPublicKeyInfo is 91 bytes */
	size_t n = strncmp(s, "hex:", 4) == 0 ? strlen(s + 4) : 0, len = n / 2;
	const uint8_t *p = der;
	EVP_PKEY *key;

	if (n == 0 || n % 2 != 0 || len > sizeof(der))
		return NULL;
	for (size_t i = 0; i < len; i++) {
		int hi = hexval(s[4 + 2 * i]), lo = hexval(s[5 + 2 * i]);

		if (hi < 0 || lo < 0)
			return NULL;
		der[i] = (uint8_t)(hi << 4 | lo);
	}
	if ((key = d2i_PUBKEY(NULL, &p, (long)len)) != NULL &&
	    (p != der + len || hwg_cose_alg_for_key(key) != HWG_COSE_ES256)) {
		EVP_PKEY_free(key);
		key = NULL;
	}
	return key;
}

/* The P-256 key under "seal_key" in gw.info's JSON answer, and the gateway's id. */
static int
seal_key_from_json(const char *from, EVP_PKEY **key, char *gateway, size_t cap)
{
	json_error_t jerr;
	json_t *root =
	    strcmp(from, "-") == 0 ? json_loadf(stdin, 0, &jerr) : json_load_file(from, 0, &jerr);
	const json_t *v;
	int rc = 0;

	if (root == NULL)
		return hwgwctl_fail(HWGWCTL_EXIT_ERROR, "cert seal-key: %s: not JSON: %s", from,
		                    jerr.text);
	v = json_object_get(root, "gateway_id");
	snprintf(gateway, cap, "%s", json_is_string(v) ? json_string_value(v) : "?");
	v = json_object_get(root, "seal_key");
	if (!json_is_string(v))
		rc = hwgwctl_fail(HWGWCTL_EXIT_REFUSED,
		                  "cert seal-key: %s has no \"seal_key\": the gateway's token has "
		                  "no seal key, or this is not gw.info's answer",
		                  from);
	else if ((*key = p256_from_hex(json_string_value(v))) == NULL)
		rc = hwgwctl_fail(HWGWCTL_EXIT_ERROR,
		                  "cert seal-key: \"seal_key\" is not an EC P-256 public key");
	json_decref(root);
	return rc;
}

static int
write_pem(const char *out, EVP_PKEY *key)
{
	FILE *f = fopen(out, "we");

	if (f == NULL)
		return hwgwctl_fail(HWGWCTL_EXIT_ERROR, "cert seal-key: %s: %s", out,
		                    strerror(errno));
	if (PEM_write_PUBKEY(f, key) != 1) {
		fclose(f);
		return hwgwctl_fail(HWGWCTL_EXIT_ERROR, "cert seal-key: cannot write %s", out);
	}
	if (fclose(f) != 0)
		return hwgwctl_fail(HWGWCTL_EXIT_ERROR, "cert seal-key: %s: %s", out,
		                    strerror(errno));
	return 0;
}

static int
cert_seal_key(int argc, char **argv)
{
	static const struct option opts[] = {{"out", required_argument, NULL, 'o'},
	                                     {"from", required_argument, NULL, 'f'},
	                                     {NULL, 0, NULL, 0}};
	const char *out = NULL, *from = "-";
	unsigned char *der = NULL, digest[SHA256_DIGEST_LENGTH];
	char gateway[128];
	EVP_PKEY *key = NULL;
	int ch, rc, n;

	opterr = 0;
	optind = 1;
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1 && ch != '?') {
		if (ch == 'o')
			out = optarg;
		else
			from = optarg;
	}
	if (ch == '?' || out == NULL || optind != argc)
		return hwgwctl_fail(
		    HWGWCTL_EXIT_ERROR,
		    "usage: hwgwctl call gw.info ... | hwgwctl cert seal-key --out FILE "
		    "[--from FILE]");
	if ((rc = seal_key_from_json(from, &key, gateway, sizeof(gateway))) != 0 ||
	    (rc = write_pem(out, key)) != 0) {
		EVP_PKEY_free(key);
		return rc;
	}
	n = i2d_PUBKEY(key, &der);
	SHA256(der, n > 0 ? (size_t)n : 0, digest);
	printf("seal key of gateway %s written to %s\nSHA-256 of its DER: ", gateway, out);
	for (size_t i = 0; i < sizeof(digest); i++)
		printf("%02x", digest[i]);
	printf("\n");
	OPENSSL_free(der);
	EVP_PKEY_free(key);
	return 0;
}

int
hwgwctl_cmd_cert(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "verify") == 0)
		return cert_verify(argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "seal-key") == 0)
		return cert_seal_key(argc - 1, argv + 1);
	return hwgwctl_fail(HWGWCTL_EXIT_ERROR, "usage: hwgwctl cert verify|seal-key [options]");
}
