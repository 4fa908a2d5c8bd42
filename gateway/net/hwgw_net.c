/*
 * hwgw_net.c — the net process, hwgw-net: the one process of hwgwd that
 * reads client bytes (privilege separation; the diagram is in
 * gateway/README.md).  The privileged process starts it with the
 * internal link on descriptor 3, the Unix listening socket on 4 and the
 * HTTP one on 5, nothing else.  It holds those sockets, the client
 * registry (public keys only) and its metrics, and nothing that can sign,
 * store or touch a device: it is linked without libpcsclite, libusb,
 * SQLite or the PKCS#11 loader, and runs under a seccomp filter
 * (hwg_sandbox.c).  Each request is checked here (shared/hwg_verify.c)
 * and the verdict sent over the link.  Each transport thread
 * verifies its request, sends the verdict with a fresh request id and
 * sleeps until the reader thread hands it the reply with that id; so
 * any number of requests are in flight on the one link.  Whatever the
 * privileged process sends that is not expected ends this process.
 */

#include <errno.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <openssl/x509.h>
#include <fcntl.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hwg_clients.h"
#include "hwg_config.h"
#include "hwg_front.h"
#include "hwg_log.h"
#include "hwg_metrics.h"
#include "hwg_msg.h"
#include "hwg_sandbox.h"
#include "hwg_time.h"
#include "hwg_transport.h"
#include "hwg_verify.h"

struct waiter {
	uint32_t id;
	int done;
	int rc;
	struct hwg_reply reply;
	pthread_cond_t cond;
	struct waiter *next;
};

struct net {
	int fd;
	const struct hwg_config *cfg;
	struct hwg_clients *clients;
	struct hwg_metrics *metrics;
	struct hwg_front_checks checks; /* the transports' front: check here, execute there */
	pthread_mutex_t lock;           /* waiters, next_id */
	pthread_mutex_t write_lock;
	struct waiter *waiters;
	uint32_t next_id;
};

static _Noreturn void
fatal(const char *what, const struct hwg_error *err)
{
	hwg_log(HWG_LOG_ERR, "net.fatal", "what=%s msg=\"%s\"", what,
	        err != NULL ? err->message : "");
	_exit(1);
}

/* A verdict to the privileged process; its signed reply back (HWG_E_HSM: none). */
static int
forward(void *arg, const struct hwg_peer *peer, struct hwg_verdict *v, const uint8_t *msg,
        size_t len, struct hwg_reply *out)
{
	struct net *n = arg;
	struct hwg_buf *b = hwg_buf_new(HWG_MSG_MAX);
	struct hwg_error err = {0};
	struct waiter w = {.rc = HWG_E_HSM};

	memset(out, 0, sizeof(*out));
	if (b == NULL || hwg_msg_verdict_encode(peer, v, msg, len, b) != 0) {
		hwg_buf_free(b);
		return HWG_E_HSM; /* no response: the transport sends none */
	}
	pthread_cond_init(&w.cond, NULL);
	pthread_mutex_lock(&n->lock);
	w.id = ++n->next_id;
	w.next = n->waiters;
	n->waiters = &w;
	pthread_mutex_unlock(&n->lock);
	pthread_mutex_lock(&n->write_lock);
	if (hwg_msg_send(n->fd, HWG_MSG_VERDICT, w.id, b, &err) != 0)
		fatal("send", &err);
	pthread_mutex_unlock(&n->write_lock);
	hwg_buf_free(b);
	pthread_mutex_lock(&n->lock);
	while (!w.done)
		pthread_cond_wait(&w.cond, &n->lock);
	pthread_mutex_unlock(&n->lock);
	pthread_cond_destroy(&w.cond);
	*out = w.reply;
	return w.rc;
}

/* With n->lock held: the waiter for id, taken off the list; NULL if none. */
static struct waiter *
take_waiter(struct net *n, uint32_t id)
{
	for (struct waiter **p = &n->waiters; *p != NULL; p = &(*p)->next) {
		struct waiter *w = *p;

		if (w->id == id) {
			*p = w->next;
			return w;
		}
	}
	return NULL;
}

static void
on_reply(struct net *n, uint32_t id, struct hwg_buf *b)
{
	struct hwg_error err = {0};
	struct hwg_reply r;
	struct waiter *w;
	int rc;

	if (hwg_msg_reply_decode(b, &rc, &r, &err) != 0)
		fatal("reply", &err);
	pthread_mutex_lock(&n->lock);
	if ((w = take_waiter(n, id)) == NULL)
		fatal("reply for no request", NULL);
	w->reply = r;
	w->rc = rc;
	w->done = 1;
	pthread_cond_signal(&w->cond);
	pthread_mutex_unlock(&n->lock);
}

static void
on_clients(struct net *n, struct hwg_buf *b)
{
	struct hwg_error err = {0};
	size_t count = 0;

	if (hwg_clients_import(n->clients, b, &count, &err) != 0)
		fatal("clients", &err);
	hwg_log(HWG_LOG_INFO, "net.clients", "clients=%zu", count);
}

/* One message from the privileged process: 1 at the end of the stream. */
static int
receive_one(struct net *n, unsigned expect)
{
	struct hwg_error err = {0};
	struct hwg_buf *b = NULL;
	uint32_t id;
	uint8_t type;
	int rc = hwg_msg_recv(n->fd, expect, &type, &id, &b, &err);

	if (rc < 0)
		fatal("receive", &err);
	if (rc == 0 && type == HWG_MSG_CLIENTS)
		on_clients(n, b);
	else if (rc == 0)
		on_reply(n, id, b);
	hwg_buf_free(b);
	return rc;
}

static void *
reader_main(void *arg)
{
	struct net *n = arg;

	while (receive_one(n, HWG_MSG_BIT(HWG_MSG_CLIENTS) | HWG_MSG_BIT(HWG_MSG_REPLY)) == 0)
		;
	hwg_log(HWG_LOG_INFO, "net.stop", "reason=\"the gateway closed the link\"");
	_exit(0); /* the privileged process is gone or stopping: nothing left to answer */
}

/*
 * OpenSSL loads its configuration, providers and decoders on first use,
 * opening files the filter forbids; the registry may be empty at start
 * and get its first key only after a SIGHUP.  So every key type a client
 * may have is decoded and used for a verification before the filter.
 */
static void
warm_crypto_one(EVP_PKEY *k)
{
	static const unsigned char msg[] = "hwgw";
	unsigned char *der = NULL, sig[128];
	const unsigned char *p;
	size_t sig_len = sizeof(sig);
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	int n = i2d_PUBKEY(k, &der);
	EVP_PKEY *pub;
	int ed = EVP_PKEY_is_a(k, "ED25519");

	p = der;
	pub = n > 0 ? d2i_PUBKEY(NULL, &p, n) : NULL;
	if (md != NULL && pub != NULL &&
	    EVP_DigestSignInit(md, NULL, ed ? NULL : EVP_sha256(), NULL, k) == 1 &&
	    EVP_DigestSign(md, sig, &sig_len, msg, sizeof(msg)) == 1) {
		EVP_MD_CTX_reset(md);
		if (EVP_DigestVerifyInit(md, NULL, ed ? NULL : EVP_sha256(), NULL, pub) == 1)
			(void)EVP_DigestVerify(md, sig, sig_len, msg, sizeof(msg));
	}
	EVP_MD_CTX_free(md);
	EVP_PKEY_free(pub);
	OPENSSL_free(der);
}

static void
warm_crypto(void)
{
	EVP_PKEY *ec = EVP_EC_gen("P-256"), *ed = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");

	OPENSSL_init_crypto(OPENSSL_INIT_LOAD_CONFIG, NULL);
	if (ec != NULL)
		warm_crypto_one(ec);
	if (ed != NULL)
		warm_crypto_one(ed);
	EVP_PKEY_free(ec);
	EVP_PKEY_free(ed);
}

static int
have_fd(int fd)
{
	return fcntl(fd, F_GETFD) >= 0;
}

static int
start_transports(struct net *n, const struct hwg_config *cfg, struct hwg_unix **ux,
                 struct hwg_http **http, struct hwg_error *err)
{
	struct hwg_front front;

	n->checks = (struct hwg_front_checks){cfg, n->clients, n->metrics, forward, n};
	hwg_front_init(&front, &n->checks);

	if (have_fd(HWG_NET_UNIX_FD) && hwg_unix_start(&front, cfg, HWG_NET_UNIX_FD, ux, err) != 0)
		return -1;
	if (have_fd(HWG_NET_HTTP_FD) &&
	    hwg_http_start(&front, cfg, HWG_NET_HTTP_FD, http, err) != 0)
		return -1;
	return 0;
}

/*
 * SIGUSR2 is the test suite's probe of the filter (test_privsep): an open,
 * which must fail with EACCES, then a call the filter forbids (socket),
 * which must end this process and nothing else.
 */
static void
forbidden_probe(void)
{
	int fd = open("/etc/hostname", O_RDONLY | O_CLOEXEC);

	if (fd >= 0) {
		hwg_log(HWG_LOG_ERR, "net.sandbox", "msg=\"open was allowed (fd %d)\"", fd);
		close(fd);
	} else {
		hwg_log(HWG_LOG_INFO, "net.sandbox", "probe=open errno=%d", errno);
	}
	/* a new socket (a compromised parser calling out) is what kills */
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	hwg_log(HWG_LOG_ERR, "net.sandbox", "msg=\"socket was allowed (fd %d)\"", fd);
	if (fd >= 0)
		close(fd);
}

static void
wait_signals(void)
{
	sigset_t set;
	int sig;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGUSR2);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	for (;;) {
		sig = sigwaitinfo(&set, NULL);
		if (sig == SIGTERM || sig == SIGINT)
			return;
		if (sig == SIGUSR2)
			forbidden_probe();
	}
}

static int
serve(const struct hwg_config *cfg)
{
	struct net n = {.fd = HWG_NET_LINK_FD, .cfg = cfg};
	struct hwg_error err = {0};
	struct hwg_unix *ux = NULL;
	struct hwg_http *http = NULL;
	pthread_t reader;
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGUSR2);
	sigaddset(&set, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &set, NULL); /* before any thread, like the others */
	pthread_mutex_init(&n.lock, NULL);
	pthread_mutex_init(&n.write_lock, NULL);
	if (!have_fd(HWG_NET_LINK_FD))
		fatal("start", NULL);
	if ((n.clients = hwg_clients_new()) == NULL || (n.metrics = hwg_metrics_new()) == NULL)
		fatal("out of memory", NULL);
	/* the registry first, so that no request is checked against an empty one */
	if (receive_one(&n, HWG_MSG_BIT(HWG_MSG_CLIENTS)) != 0)
		fatal("no client registry", NULL);
	if (pthread_create(&reader, NULL, reader_main, &n) != 0 ||
	    start_transports(&n, cfg, &ux, &http, &err) != 0)
		fatal("transports", &err);
	warm_crypto();
	if (hwg_sandbox_enter(&err) != 0)
		fatal("sandbox", &err);
	hwg_log(HWG_LOG_INFO, "net.ready", "pid=%ld seccomp_allowed=%u", (long)getpid(),
	        hwg_sandbox_allowed());
	wait_signals();
	hwg_http_stop(http);
	hwg_unix_stop(ux);
	hwg_log(HWG_LOG_INFO, "net.stop", "reason=signal");
	_exit(0); /* the reader thread is still in read(); exit without joining it */
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"config", required_argument, NULL, 'c'},
	    {NULL, 0, NULL, 0},
	};
	const char *config_path = NULL;
	struct hwg_config cfg;
	struct hwg_error err = {0};
	int ch;

	while ((ch = getopt_long(argc, argv, "c:", longopts, NULL)) != -1) {
		if (ch != 'c') {
			fprintf(stderr,
			        "hwgw-net: started by hwgwd only (hwgw-net --config FILE)\n");
			return 2;
		}
		config_path = optarg;
	}
	if (config_path == NULL || optind != argc) {
		fprintf(stderr, "hwgw-net: started by hwgwd only (hwgw-net --config FILE)\n");
		return 2;
	}
	umask(077);
	hwg_log_init("hwgwd-net", HWG_LOG_INFO);
	hwg_config_defaults(&cfg);
	if (hwg_config_load(config_path, &cfg, &err) != 0) {
		fprintf(stderr, "hwgw-net: %s\n", err.message);
		return 1;
	}
	hwg_log_init("hwgwd-net", (enum hwg_log_level)cfg.log_level);
	return serve(&cfg);
}
