/*
 * hwgw_keyholder.c — the keyholder: the only process of hwgwd that loads
 * the PKCS#11 module and holds the token session, as OpenSMTPD's ca.c is
 * the only process holding private keys.  Started by the privileged
 * process (hwg_keyholder.c) with the link on descriptor 3 and nothing
 * else open but 0-2:
 *
 *   hwgw-keyholder --module PATH --token LABEL --pin-file PATH
 *                  --response-key LABEL --audit-key LABEL [--template-key LABEL]
 *                  [--seal-key LABEL] [--signers N]
 *
 * It opens the module, the session and the keys (hwg_p11 reads the PIN
 * file for each login and wipes it after), enters its seccomp filter
 * (hwg_kh_sandbox.c), says READY (or why it cannot start, and exits 1;
 * 4 when the token refused the PIN, so that it is not started again),
 * then answers requests (hwg_kh_proto.h) until the link closes (exit 0):
 * N signers (--signers, 1 by default) work on them at once, each
 * signature on a token session of its own (hwg_p11_set_signers), and the
 * replies leave in the order the requests came.  A request it does not serve — another type, a body
 * not of its type's shape, bytes the response key must not sign — gets an
 * error reply and the keyholder stays up; a broken frame from the parent
 * (cut, over the maximum, a type the framing cannot carry) ends it (exit
 * 3), as bad data from an internal peer is fatal in OpenSMTPD.  SIGUSR2
 * makes it try a call its filter forbids (tests: it dies of SIGSYS).
 */
#include <errno.h>
#include <getopt.h>
#include <malloc.h>
#include <pthread.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <openssl/x509.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hwg_certcode.h"
#include "hwg_checkpoint.h"
#include "hwg_cose.h"
#include "hwg_kh_proto.h"
#include "hwg_kh_sandbox.h"
#include "hwg_log.h"
#include "hwg_msg.h"
#include "hwg_p11.h"
#include "hwg_secret.h"
#include "hwg_templates.h"

#define LINK_FD 3

_Static_assert(HWG_KEYHOLDER_BLOB_LEN == HWG_TEMPLATE_BLOB_LEN, "the client's blob length");
_Static_assert(HWG_KH_REPLY < 32 && HWG_KH_SEAL_PDF < 32, "the framing carries types < 32");
_Static_assert((int)HWG_KH_READY > (int)HWG_MSG_REPLY, "apart from the net process's types");

struct keyholder {
	pthread_mutex_t info_lock; /* last_reopens */
	struct hwg_p11 *p11;
	struct hwg_p11_key *response, *audit, *tmpl; /* tmpl NULL: none configured */
	struct hwg_p11_key *seal;                    /* NULL: none configured or found */
	struct hwg_keyholder_key response_pub, audit_pub, seal_pub;
	unsigned long last_reopens;
};

/*
 * What one request answers besides its code (the handler's return value,
 * never err.code: a call that succeeds may leave an earlier message
 * there): the message, or the result.
 */
struct answer {
	struct hwg_error err;
	uint8_t *result; /* wiped and freed after sending */
	size_t len;
};

/*
 * The token refused the PIN (hwg_p11's message, firmware-notes/pkcs11.md:
 * "login refused by token ...: CKR_PIN_INCORRECT", _INVALID, _LEN_RANGE,
 * _EXPIRED, _LOCKED).  hwg_p11 never tries such a PIN again; neither may a
 * restarted keyholder.
 */
static int
pin_refused(const struct hwg_error *err)
{
	return strncmp(err->message, "login refused by token", 22) == 0 &&
	       strstr(err->message, ": CKR_PIN_") != NULL;
}

/* Exit from inside the filter. */
static _Noreturn void
leave(int code)
{
#ifdef HWG_SANITIZE
	/* LeakSanitizer's check at exit stops the world with clone and ptrace: forbidden here */
	_exit(code);
#else
	exit(code);
#endif
}

static void
usage(void)
{
	fprintf(stderr, "usage: hwgw-keyholder --module PATH --token LABEL --pin-file PATH "
	                "--response-key LABEL --audit-key LABEL [--template-key LABEL] "
	                "[--seal-key LABEL] [--signers 1-%d]\n"
	                "  (started by hwgwd with its link on descriptor 3)\n",
	        HWG_P11_SIGNERS_MAX);
	exit(2);
}

/* The probe: a new socket is what the filter kills (async-signal-safe). */
static void
probe(int sig)
{
	(void)sig;
	(void)socket(AF_INET, SOCK_STREAM, 0);
}

static void
signals(void)
{
	struct sigaction sa = {.sa_handler = SIG_IGN};
	sigset_t none;

	/* a mask blocked in the parent's threads survives exec */
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	sigemptyset(&sa.sa_mask);
	/* its life is the link's; a terminal's ^C is for hwgwd, which then closes it */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGPIPE, &sa, NULL);
	sa.sa_handler = probe;
	sigaction(SIGUSR2, &sa, NULL);
}

static int
public_key(struct hwg_p11_key *k, struct hwg_keyholder_key *out, struct hwg_error *err)
{
	EVP_PKEY *pk = hwg_p11_key_public(k);
	uint8_t *p = out->spki;
	int n = pk != NULL ? i2d_PUBKEY(pk, NULL) : -1;

	if (n <= 0 || n > HWG_KEYHOLDER_SPKI_MAX || i2d_PUBKEY(pk, &p) != n) {
		EVP_PKEY_free(pk);
		return hwg_error_set(err, HWG_E_HSM, "cannot encode a public key from the token");
	}
	EVP_PKEY_free(pk);
	out->alg = hwg_p11_key_alg(k);
	out->spki_len = (size_t)n;
	return 0;
}

/* The key labels the keyholder was started with (template and seal optional). */
struct labels {
	const char *response, *audit, *tmpl, *seal;
	const char *signers; /* NULL: SIGNERS_DEFAULT */
};

/* --signers: 1 .. HWG_P11_SIGNERS_MAX, else usage. */
static unsigned
signers_arg(const char *s)
{
	char *end;
	unsigned long n;

	if (s == NULL)
		return 1;
	n = strtoul(s, &end, 10);
	if (*s < '1' || *s > '9' || *end != '\0' || n > HWG_P11_SIGNERS_MAX)
		usage();
	return (unsigned)n;
}

/*
 * The seal key, when one is named and found: an EC P-256 key pair, like
 * the audit key.  A missing one is reported (INFO), not fatal: a gateway
 * without it issues no certificates.
 */
static int
open_seal_key(struct keyholder *kh, const char *label, struct hwg_error *err)
{
	int rc;

	if (label == NULL || label[0] == '\0')
		return 0;
	if ((rc = hwg_p11_key_find(kh->p11, label, &kh->seal, err)) == HWG_E_NOT_FOUND) {
		kh->seal = NULL;
		return 0;
	}
	if (rc != 0)
		return rc;
	if (hwg_p11_key_alg(kh->seal) != HWG_COSE_ES256)
		return hwg_error_set(err, HWG_E_HSM, "seal key \"%s\" must be an EC P-256 key",
		                     label);
	return public_key(kh->seal, &kh->seal_pub, err);
}

static int
open_token(struct keyholder *kh, const struct hwg_p11_config *pc, const struct labels *l,
           struct hwg_error *err)
{
	const char *response_label = l->response, *audit_label = l->audit,
	           *template_label = l->tmpl;
	int rc;

	if ((rc = hwg_p11_open(pc, &kh->p11, err)) != 0 ||
	    (rc = hwg_p11_key_find(kh->p11, response_label, &kh->response, err)) != 0 ||
	    (rc = hwg_p11_key_find(kh->p11, audit_label, &kh->audit, err)) != 0)
		return rc;
	if (hwg_p11_key_alg(kh->audit) != HWG_COSE_ES256)
		return hwg_error_set(err, HWG_E_HSM, "audit key \"%s\" must be an EC P-256 key",
		                     audit_label);
	/* a missing template key is reported (INFO), not fatal: the gateway decides */
	if (template_label != NULL && template_label[0] != '\0' &&
	    (rc = hwg_p11_secret_find(kh->p11, template_label, &kh->tmpl, err)) != 0 &&
	    rc != HWG_E_NOT_FOUND)
		return rc;
	if ((rc = public_key(kh->response, &kh->response_pub, err)) != 0 ||
	    (rc = public_key(kh->audit, &kh->audit_pub, err)) != 0)
		return rc;
	return open_seal_key(kh, l->seal, err);
}

/*
 * OpenSSL loads its configuration, seeds its generator and fetches its
 * algorithms on first use: do that now, while files may still be opened.
 */
static int
warm_crypto(struct hwg_error *err)
{
	uint8_t b[32] = {0};

	SHA256(b, 0, b);
	if (RAND_bytes(b, sizeof(b)) != 1)
		return hwg_error_set(err, HWG_E_INTERNAL, "OpenSSL has no random bytes");
	hwg_wipe(b, sizeof(b));
	return 0;
}

/* ---------------------------------------------------------------- requests */

static int
result(struct answer *a, const uint8_t *p, size_t len)
{
	if ((a->result = malloc(len ? len : 1)) == NULL)
		return hwg_error_set(&a->err, HWG_E_NOMEM, "out of memory");
	memcpy(a->result, p, len);
	a->len = len;
	return 0;
}

static int
do_info(struct keyholder *kh, struct answer *a)
{
	struct hwg_keyholder_info in = {0};
	struct hwg_p11_token_info ti;
	struct hwg_error err = {0};
	struct hwg_buf *b;
	int rc;

	if (hwg_p11_token_info(kh->p11, &ti, &err) == 0) {
		memcpy(in.label, ti.label, sizeof(in.label));
		memcpy(in.manufacturer, ti.manufacturer, sizeof(in.manufacturer));
		memcpy(in.model, ti.model, sizeof(in.model));
		memcpy(in.serial, ti.serial, sizeof(in.serial));
		in.present = ti.present;
		in.logged_in = ti.logged_in;
	}
	pthread_mutex_lock(&kh->info_lock);
	if (in.present)
		kh->last_reopens = ti.session_reopens;
	in.session_reopens = kh->last_reopens; /* a token away: the count it had */
	pthread_mutex_unlock(&kh->info_lock);
	in.response = kh->response_pub;
	in.audit = kh->audit_pub;
	in.template_key = kh->tmpl != NULL;
	in.seal_key = kh->seal != NULL;
	if (in.seal_key)
		in.seal = kh->seal_pub;
	if ((b = hwg_buf_new(1024)) == NULL || hwg_kh_info_encode(&in, b) != 0)
		rc = hwg_error_set(&a->err, HWG_E_INTERNAL, "cannot encode INFO");
	else
		rc = result(a, hwg_buf_ptr(b), hwg_buf_len(b));
	hwg_buf_free(b);
	return rc;
}

static int
do_sign_response(struct keyholder *kh, struct hwg_buf *body, struct answer *a)
{
	uint8_t digest[SHA256_DIGEST_LENGTH], sig[HWG_KH_SIG_LEN];
	int alg = hwg_p11_key_alg(kh->response), rc;
	const uint8_t *tbs;
	size_t len;

	if ((rc = hwg_kh_sign_response_decode(body, &tbs, &len, &a->err)) != 0 ||
	    (rc = hwg_kh_response_check(alg, tbs, len, &a->err)) != 0)
		return rc;
	if (alg == HWG_COSE_EDDSA) {
		rc = hwg_p11_sign(kh->p11, kh->response, tbs, len, sig, &a->err);
	} else {
		SHA256(tbs, len, digest);
		rc = hwg_p11_sign(kh->p11, kh->response, digest, sizeof(digest), sig, &a->err);
	}
	return rc != 0 ? rc : result(a, sig, sizeof(sig));
}

static int
do_sign_checkpoint(struct keyholder *kh, struct hwg_buf *body, struct answer *a)
{
	struct hwg_kh_checkpoint cp;
	uint8_t digest[32], sig[HWG_KH_SIG_LEN];
	int rc;

	if ((rc = hwg_kh_checkpoint_decode(body, &cp, &a->err)) != 0)
		return rc;
	if (hwg_audit_checkpoint_digest(cp.seq, cp.hash, cp.time_ms, digest) != 0)
		return hwg_error_set(&a->err, HWG_E_INTERNAL, "cannot encode the checkpoint");
	if ((rc = hwg_p11_sign(kh->p11, kh->audit, digest, sizeof(digest), sig, &a->err)) != 0)
		return rc;
	return result(a, sig, sizeof(sig));
}

static int
have_template_key(const struct keyholder *kh, struct answer *a)
{
	if (kh->tmpl == NULL)
		return hwg_error_set(&a->err, HWG_E_NOT_FOUND,
		                     "this keyholder was started without a template key");
	return 0;
}

static int
do_seal(struct keyholder *kh, struct hwg_buf *body, struct answer *a)
{
	char id[HWG_MATCH_ID_MAX + 1];
	int8_t tmpl[HWG_MATCH_DIM];
	const uint8_t *t;
	uint8_t *blob = NULL;
	size_t len = 0;
	int rc;

	if ((rc = hwg_kh_seal_decode(body, id, &t, &a->err)) != 0 ||
	    (rc = have_template_key(kh, a)) != 0)
		return rc;
	memcpy(tmpl, t, sizeof(tmpl));
	if ((rc = hwg_template_seal(kh->p11, kh->tmpl, id, tmpl, &blob, &len, &a->err)) == 0)
		rc = result(a, blob, len);
	hwg_wipe(tmpl, sizeof(tmpl));
	free(blob);
	return rc;
}

static int
do_open(struct keyholder *kh, struct hwg_buf *body, struct answer *a)
{
	char id[HWG_MATCH_ID_MAX + 1];
	int8_t tmpl[HWG_MATCH_DIM];
	const uint8_t *blob;
	size_t len;
	int rc;

	if ((rc = hwg_kh_open_decode(body, id, &blob, &len, &a->err)) != 0 ||
	    (rc = have_template_key(kh, a)) != 0)
		return rc;
	if ((rc = hwg_template_open(kh->p11, kh->tmpl, id, blob, len, tmpl, &a->err)) == 0)
		rc = result(a, (const uint8_t *)tmpl, sizeof(tmpl));
	hwg_wipe(tmpl, sizeof(tmpl));
	return rc;
}

static int
have_seal_key(const struct keyholder *kh, struct answer *a)
{
	if (kh->seal == NULL)
		return hwg_error_set(&a->err, HWG_E_NOT_FOUND,
		                     "this keyholder was started without a seal key");
	return 0;
}

/* A hwg_cose_signer_fn for the seal key: ES256, the digest computed here. */
static int
seal_signer(void *ctx, int alg, const uint8_t *tbs, size_t len, uint8_t sig[HWG_COSE_SIG_LEN],
            struct hwg_error *err)
{
	struct keyholder *kh = ctx;
	uint8_t digest[SHA256_DIGEST_LENGTH];

	if (alg != HWG_COSE_ES256)
		return hwg_error_set(err, HWG_E_ALG_NOT_ALLOWED, "the seal key signs ES256 only");
	SHA256(tbs, len, digest);
	return hwg_p11_sign(kh->p11, kh->seal, digest, sizeof(digest), sig, err);
}

/* SEAL_SUMMARY: the summary map and its COSE_Sign1 built here, from the fields. */
static int
do_seal_summary(struct keyholder *kh, struct hwg_buf *body, struct answer *a)
{
	struct hwg_certcode_summary s;
	uint8_t *cose = NULL;
	size_t len = 0;
	int rc;

	if ((rc = hwg_kh_summary_decode(body, &s, &a->err)) != 0 ||
	    (rc = have_seal_key(kh, a)) != 0)
		return rc;
	if ((rc = hwg_certcode_sign(&s, seal_signer, kh, &cose, &len, &a->err)) == 0)
		rc = result(a, cose, len);
	free(cose);
	return rc;
}

/* SEAL_PDF: the structure over the PDF's digest built here, then signed. */
static int
do_seal_pdf(struct keyholder *kh, struct hwg_buf *body, struct answer *a)
{
	char no[HWG_CERTCODE_NO_MAX + 1];
	uint8_t pdf[HWG_KH_HASH_LEN], digest[SHA256_DIGEST_LENGTH], sig[HWG_KH_SIG_LEN],
	    *tbs = NULL;
	size_t len = 0;
	int rc;

	if ((rc = hwg_kh_pdf_decode(body, no, pdf, &a->err)) != 0 ||
	    (rc = have_seal_key(kh, a)) != 0)
		return rc;
	if (hwg_certcode_pdf_seal_tbs(no, pdf, &tbs, &len) != 0)
		return hwg_error_set(&a->err, HWG_E_INTERNAL, "cannot encode the PDF's seal");
	SHA256(tbs, len, digest);
	free(tbs);
	if ((rc = hwg_p11_sign(kh->p11, kh->seal, digest, sizeof(digest), sig, &a->err)) != 0)
		return rc;
	return result(a, sig, sizeof(sig));
}

/* The request's code: 0 with a->result, or an error with its message in a->err. */
static int
dispatch(struct keyholder *kh, uint8_t type, struct hwg_buf *body, struct answer *a)
{
	switch (type) {
	case HWG_KH_INFO:
		if (hwg_buf_len(body) != 0)
			return hwg_error_set(&a->err, HWG_E_BAD_ARGS, "INFO carries no body");
		return do_info(kh, a);
	case HWG_KH_SIGN_RESPONSE:
		return do_sign_response(kh, body, a);
	case HWG_KH_SIGN_CHECKPOINT:
		return do_sign_checkpoint(kh, body, a);
	case HWG_KH_SEAL_TEMPLATE:
		return do_seal(kh, body, a);
	case HWG_KH_OPEN_TEMPLATE:
		return do_open(kh, body, a);
	case HWG_KH_SEAL_SUMMARY:
		return do_seal_summary(kh, body, a);
	case HWG_KH_SEAL_PDF:
		return do_seal_pdf(kh, body, a);
	default:
		return hwg_error_set(&a->err, HWG_E_UNKNOWN_OP,
		                     "the keyholder serves no request of type %u", type);
	}
}

/* ---------------------------------------------------------------- serving */

#define SIGNERS_DEFAULT 1
#define INFLIGHT 64 /* requests read and not answered yet, at most */

/* One request, from its reading to its reply's sending. */
struct work {
	uint8_t type;
	uint32_t id;
	struct hwg_buf *body;
	struct hwg_buf *reply; /* encoded, once done */
	int done;
};

/*
 * The requests in flight: the main thread reads them into the ring, the
 * signers take them in turn, and whichever finishes the oldest sends the
 * replies that are ready, in the requests' order (the privileged side
 * reads them so).  Its threads are started before the filter and never
 * end on their own: a thread's end needs calls the filter forbids, so the
 * process leaves with exit_group.
 */
struct server {
	struct keyholder *kh;
	pthread_mutex_t lock;
	pthread_cond_t more; /* a request was read */
	pthread_cond_t room; /* a reply was sent */
	struct work ring[INFLIGHT];
	uint64_t n_read, n_taken, n_sent;
	unsigned started; /* signers running */
	int broken;       /* a reply could not be sent: the link is gone */
	struct hwg_error err;
};

/* The reply to w, encoded: its result or its refusal. */
static struct hwg_buf *
answer_one(struct keyholder *kh, struct work *w)
{
	struct answer a = {0};
	struct hwg_buf *out;
	int code = dispatch(kh, w->type, w->body, &a), rc;

	hwg_buf_free(w->body);
	w->body = NULL;
	if ((out = hwg_buf_new(HWG_MSG_MAX)) == NULL)
		rc = HWG_E_NOMEM;
	else if (code != 0)
		rc = hwg_kh_reply_encode(code, a.err.message, NULL, 0, out);
	else
		rc = hwg_kh_reply_encode(0, "", a.result, a.len, out);
	if (a.result != NULL)
		hwg_wipe(a.result, a.len);
	free(a.result);
	if (rc != 0) {
		hwg_buf_free(out);
		return NULL;
	}
	return out;
}

/* With the lock held: send the replies that are ready, oldest first. */
static void
send_ready(struct server *sv)
{
	while (sv->n_sent < sv->n_read && sv->ring[sv->n_sent % INFLIGHT].done) {
		struct work *w = &sv->ring[sv->n_sent % INFLIGHT];

		if (!sv->broken &&
		    (w->reply == NULL
		         ? hwg_error_set(&sv->err, HWG_E_NOMEM, "cannot encode a reply")
		         : hwg_msg_send(LINK_FD, HWG_KH_REPLY, w->id, w->reply, &sv->err)) != 0)
			sv->broken = 1;
		hwg_buf_free(w->reply);
		*w = (struct work){0};
		sv->n_sent++;
		pthread_cond_signal(&sv->room);
	}
}

static void *
signer_main(void *arg)
{
	struct server *sv = arg;
	struct work *w;

	pthread_mutex_lock(&sv->lock);
	sv->started++;
	pthread_cond_broadcast(&sv->room);
	for (;;) {
		while (sv->n_taken == sv->n_read)
			pthread_cond_wait(&sv->more, &sv->lock);
		w = &sv->ring[sv->n_taken++ % INFLIGHT];
		pthread_mutex_unlock(&sv->lock);
		w->reply = answer_one(sv->kh, w);
		pthread_mutex_lock(&sv->lock);
		w->done = 1;
		send_ready(sv);
	}
	return NULL; /* not reached */
}

/*
 * Start the signers, and wait until each runs: the filter forbids clone,
 * and what a new thread does first (rseq) too.
 */
static int
start_signers(struct server *sv, unsigned n, struct hwg_error *err)
{
	pthread_t t;

	for (unsigned i = 0; i < n; i++)
		if (pthread_create(&t, NULL, signer_main, sv) != 0)
			return hwg_error_set(err, HWG_E_INTERNAL, "cannot start signer %u of %u", i + 1,
			                     n);
	pthread_mutex_lock(&sv->lock);
	while (sv->started < n)
		pthread_cond_wait(&sv->room, &sv->lock);
	pthread_mutex_unlock(&sv->lock);
	return 0;
}

/*
 * Read requests into the ring until the link ends: 0 once every reply
 * was sent after the parent closed it, or the link is broken (the parent
 * is gone or sent a broken frame).
 */
static int
serve(struct server *sv, struct hwg_error *err)
{
	struct hwg_buf *body;
	uint32_t id;
	uint8_t type;
	int rc;

	for (;;) {
		if ((rc = hwg_msg_recv(LINK_FD, 0xffffffffu, &type, &id, &body, err)) != 0)
			break;
		pthread_mutex_lock(&sv->lock);
		while (sv->n_read - sv->n_sent >= INFLIGHT && !sv->broken)
			pthread_cond_wait(&sv->room, &sv->lock);
		if (sv->broken) {
			pthread_mutex_unlock(&sv->lock);
			hwg_buf_free(body);
			*err = sv->err;
			return err->code != 0 ? err->code : HWG_E_IO;
		}
		sv->ring[sv->n_read++ % INFLIGHT] = (struct work){.type = type, .id = id, .body = body};
		pthread_cond_signal(&sv->more);
		pthread_mutex_unlock(&sv->lock);
	}
	if (rc != 1)
		return rc;
	/* the privileged process closed the link: what it sent is answered (into the void) */
	pthread_mutex_lock(&sv->lock);
	while (sv->n_sent < sv->n_read && !sv->broken)
		pthread_cond_wait(&sv->room, &sv->lock);
	pthread_mutex_unlock(&sv->lock);
	return 0;
}

static int
ready(int code, const char *message)
{
	struct hwg_buf *b = hwg_buf_new(HWG_KH_TEXT_MAX + 16);
	struct hwg_error err = {0};
	int rc = b != NULL && hwg_kh_ready_encode(code, message, b) == 0
	             ? hwg_msg_send(LINK_FD, HWG_KH_READY, 0, b, &err)
	             : HWG_E_NOMEM;

	hwg_buf_free(b);
	return rc;
}

/* The command line into pc and l; usage (exit 2) for anything else. */
static void
options(int argc, char **argv, struct hwg_p11_config *pc, struct labels *l)
{
	static const struct option opts[] = {
	    {"module", required_argument, NULL, 'm'},
	    {"token", required_argument, NULL, 't'},
	    {"pin-file", required_argument, NULL, 'p'},
	    {"response-key", required_argument, NULL, 'r'},
	    {"audit-key", required_argument, NULL, 'a'},
	    {"template-key", required_argument, NULL, 'k'},
	    {"seal-key", required_argument, NULL, 's'},
	    {"signers", required_argument, NULL, 'n'},
	    {NULL, 0, NULL, 0},
	};
	const char **slot[128] = {
	    ['m'] = &pc->module_path, ['t'] = &pc->token_label, ['p'] = &pc->pin_file,
	    ['r'] = &l->response,     ['a'] = &l->audit,        ['k'] = &l->tmpl,
	    ['s'] = &l->seal,         ['n'] = &l->signers,
	};
	int c;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c < 0 || c >= 128 || slot[c] == NULL)
			usage();
		*slot[c] = optarg;
	}
	if (optind != argc || pc->module_path == NULL || pc->token_label == NULL ||
	    pc->pin_file == NULL || l->response == NULL || l->audit == NULL)
		usage();
}

int
main(int argc, char **argv)
{
	static struct server sv = {.lock = PTHREAD_MUTEX_INITIALIZER,
	                           .more = PTHREAD_COND_INITIALIZER,
	                           .room = PTHREAD_COND_INITIALIZER};
	struct hwg_p11_config pc = {0};
	struct labels l = {0};
	struct keyholder kh = {.info_lock = PTHREAD_MUTEX_INITIALIZER};
	struct hwg_error err = {0};
	struct stat st;
	unsigned signers;
	int rc;

	hwg_log_init("hwgw-keyholder", HWG_LOG_INFO);
	options(argc, argv, &pc, &l);
	signers = signers_arg(l.signers);
	/* one heap for every thread: another arena's trimming calls madvise, which the filter forbids */
	mallopt(M_ARENA_MAX, 1);
	if (fstat(LINK_FD, &st) != 0 || !S_ISSOCK(st.st_mode)) {
		fprintf(stderr, "hwgw-keyholder: descriptor 3 is not the link to hwgwd\n");
		return 2;
	}
	signals();
	sv.kh = &kh;
	if ((rc = open_token(&kh, &pc, &l, &err)) != 0 || (rc = warm_crypto(&err)) != 0 ||
	    (signers > 1 && (rc = hwg_p11_set_signers(kh.p11, signers, &err)) != 0) ||
	    (rc = start_signers(&sv, signers, &err)) != 0 || (rc = hwg_kh_sandbox_enter(&err)) != 0) {
		ready(rc, err.message);
		hwg_p11_close(kh.p11);
		return pin_refused(&err) ? HWG_KH_EXIT_PIN_REFUSED : 1;
	}
	if (ready(0, "") != 0)
		leave(3);
	if ((rc = serve(&sv, &err)) != 0) {
		hwg_log(HWG_LOG_ERR, "keyholder.link", "result=%s msg=\"%s\"", hwg_err_code(rc),
		        err.message);
		leave(3);
	}
	hwg_p11_close(kh.p11);
	leave(0);
}
