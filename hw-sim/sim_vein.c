/*
 * sim_vein.c — the simulated palm-vein terminal (see sim_vein.h).
 *
 * Commands are answered when they arrive, into a short queue of frames
 * that bulk IN transfers drain in order.  A CAPTURE is the one command
 * whose answer waits: it is made at the first read that finds a palm
 * presented (or the deadline passed), so its place in the queue is
 * when it became ready (with a capture time set, no sooner than that
 * long after the capture took its palm).  A cancelled capture's answer is queued before
 * CANCEL's own: a host that reads after each write, one thread waiting
 * on the capture and another cancelling, then gets each answer on the
 * transfer that expects it.
 */
#include "sim_vein.h"

#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "hwg_secret.h"
#include "sim_palm.h"

#define ANSWERS_MAX 8
/* a CANCEL queues two answers and a running capture may add one */
#define ANSWERS_RESERVE 3
#define WRONG_KEY_LABEL "hw-sim vein: the key of a swapped device"

struct answer {
	uint8_t frame[HWG_VEIN_FRAME_MAX];
	size_t len;
};

struct presentation {
	enum sim_vein_palm kind;
	char person[SIM_VEIN_PERSON_MAX + 1];
	unsigned count;
};

struct capture {
	int active;
	uint16_t seq;
	uint8_t nonce[HWG_VEIN_NONCE_LEN];
	uint64_t deadline_ms;
	uint64_t ready_ms; /* its palm taken: the answer is due then (the capture time) */
	int decided;       /* a presentation was taken for it */
	struct presentation palm;
};

struct sim_vein {
	pthread_mutex_t lock;
	char serial[HWG_VEIN_STR_MAX + 1];
	char model[HWG_VEIN_STR_MAX + 1];
	char firmware[HWG_VEIN_STR_MAX + 1];
	EVP_PKEY *key, *wrong_key;
	uint8_t pubkey[HWG_VEIN_PUBKEY_LEN];
	uint64_t rng;

	int plugged, fault, wrong, replay, inject;
	unsigned capture_ms; /* a palm taken to its signed template (sim_vein_set_capture_ms) */
	char inject_person[SIM_VEIN_PERSON_MAX + 1];

	struct answer answers[ANSWERS_MAX];
	size_t n_answers;
	struct presentation queue[SIM_VEIN_QUEUE_MAX];
	size_t n_queue;
	struct capture cap;

	uint8_t last_ok[HWG_VEIN_PAYLOAD_MAX]; /* the last OK capture payload, for replay */
	size_t last_ok_len;
};

/* ---------------------------------------------------------------- keys and strings */

static int
str_valid(const char *s)
{
	size_t n;

	if (s == NULL || (n = strlen(s)) == 0 || n > HWG_VEIN_STR_MAX)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (s[i] < 0x20 || s[i] > 0x7E)
			return 0;
	return 1;
}

static int
person_valid(const char *s)
{
	size_t n;

	if (s == NULL || (n = strlen(s)) == 0 || n > SIM_VEIN_PERSON_MAX)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (s[i] <= 0x20 || s[i] > 0x7E)
			return 0;
	return 1;
}

static EVP_PKEY *
key_from_seed(const uint8_t seed[32])
{
	return EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, seed, 32);
}

/* The device key from cfg's seed or fresh, and the swapped device's key derived from it. */
static int
make_keys(struct sim_vein *t, const uint8_t *seed_in, struct hwg_error *err)
{
	uint8_t lseed[sizeof(WRONG_KEY_LABEL) - 1 + 32], wrong[SHA256_DIGEST_LENGTH];
	uint8_t *seed = lseed + sizeof(WRONG_KEY_LABEL) - 1;
	size_t publen = sizeof(t->pubkey);

	if (seed_in != NULL)
		memcpy(seed, seed_in, 32);
	else if (RAND_bytes(seed, 32) != 1)
		return hwg_error_set(err, HWG_E_INTERNAL, "simulated terminal: no randomness");
	memcpy(lseed, WRONG_KEY_LABEL, sizeof(WRONG_KEY_LABEL) - 1);
	SHA256(lseed, sizeof(lseed), wrong);
	t->key = key_from_seed(seed);
	t->wrong_key = key_from_seed(wrong);
	hwg_wipe(lseed, sizeof(lseed));
	hwg_wipe(wrong, sizeof(wrong));
	if (t->key == NULL || t->wrong_key == NULL ||
	    EVP_PKEY_get_raw_public_key(t->key, t->pubkey, &publen) != 1 ||
	    publen != sizeof(t->pubkey))
		return hwg_error_set(err, HWG_E_INTERNAL, "simulated terminal: Ed25519 key failed");
	return 0;
}

static int
ed25519_sign(EVP_PKEY *key, const uint8_t *msg, size_t len, uint8_t sig[HWG_VEIN_SIG_LEN])
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	size_t sl = HWG_VEIN_SIG_LEN;
	int ok = ctx != NULL && EVP_DigestSignInit(ctx, NULL, NULL, NULL, key) == 1 &&
	         EVP_DigestSign(ctx, sig, &sl, msg, len) == 1 && sl == HWG_VEIN_SIG_LEN;

	EVP_MD_CTX_free(ctx);
	return ok ? 0 : HWG_E_INTERNAL;
}

static uint64_t
seed_of(const char *serial)
{
	uint8_t d[SHA256_DIGEST_LENGTH];
	uint64_t v = 0;

	SHA256((const uint8_t *)serial, strlen(serial), d);
	for (int i = 0; i < 8; i++)
		v = v << 8 | d[i];
	return v;
}

/* splitmix64, for liveness scores (sim_palm keeps its own use of the same state). */
static uint64_t
next_rng(uint64_t *s)
{
	uint64_t z = (*s += 0x9E3779B97F4A7C15ull);

	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
	return z ^ (z >> 31);
}

/* ---------------------------------------------------------------- life */

int
sim_vein_new(const struct sim_vein_config *cfg, struct sim_vein **out, struct hwg_error *err)
{
	const char *model = cfg->model != NULL ? cfg->model : "hwsim PV-1";
	const char *fw = cfg->firmware != NULL ? cfg->firmware : "1.0.0";
	struct sim_vein *t;
	int rc;

	if (!str_valid(cfg->serial) || !str_valid(model) || !str_valid(fw))
		return hwg_error_set(err, HWG_E_INVALID,
		                     "simulated terminal: serial, model and firmware must be 1..%d "
		                     "printable ASCII bytes",
		                     HWG_VEIN_STR_MAX);
	if ((t = calloc(1, sizeof(*t))) == NULL)
		return hwg_error_set(err, HWG_E_NOMEM, "simulated terminal: out of memory");
	pthread_mutex_init(&t->lock, NULL);
	strcpy(t->serial, cfg->serial);
	strcpy(t->model, model);
	strcpy(t->firmware, fw);
	t->rng = cfg->rng_seed != 0 ? cfg->rng_seed : seed_of(cfg->serial);
	t->plugged = 1;
	if ((rc = make_keys(t, cfg->key_seed, err)) != 0) {
		sim_vein_free(t);
		return rc;
	}
	*out = t;
	return 0;
}

void
sim_vein_free(struct sim_vein *t)
{
	if (t == NULL)
		return;
	EVP_PKEY_free(t->key);
	EVP_PKEY_free(t->wrong_key);
	pthread_mutex_destroy(&t->lock);
	hwg_wipe(t, sizeof(*t));
	free(t);
}

/* ---------------------------------------------------------------- answers */

static void
queue_frame(struct sim_vein *t, uint8_t type, uint16_t seq, const uint8_t *p, size_t n)
{
	struct answer *a;

	/* sim_vein_write keeps ANSWERS_RESERVE free, so this never drops */
	if (t->n_answers == ANSWERS_MAX)
		return;
	a = &t->answers[t->n_answers];
	if (hwg_vein_frame_encode(type, seq, p, n, a->frame, sizeof(a->frame), &a->len, NULL) == 0)
		t->n_answers++;
}

static void
queue_status(struct sim_vein *t, uint8_t cmd, uint16_t seq, uint8_t status)
{
	queue_frame(t, cmd | HWG_VEIN_RESPONSE, seq, &status, 1);
}

/* ---------------------------------------------------------------- captures */

static void
end_capture(struct sim_vein *t, uint8_t status)
{
	queue_status(t, HWG_VEIN_CAPTURE, t->cap.seq, status);
	hwg_wipe(&t->cap, sizeof(t->cap));
}

/* The capture's measurements, as the sensor would make them. */
static void
measure(struct sim_vein *t, const struct presentation *pr, struct hwg_vein_msg_capture *m)
{
	double noise = pr->kind == SIM_VEIN_LOW ? SIM_PALM_NOISE_LOW : SIM_PALM_NOISE_GOOD;
	uint64_t r;

	sim_palm_capture(pr->person, noise, &t->rng, m->tmpl, &m->quality);
	r = next_rng(&t->rng);
	if (pr->kind == SIM_VEIN_PHOTO)
		m->liveness = (uint8_t)(r % (SIM_VEIN_PHOTO_LIVENESS_MAX + 1));
	else
		m->liveness = (uint8_t)(80 + r % 20);
}

/* An attacker on the bus rewrites the template the terminal signed. */
static void
tamper(struct sim_vein *t, struct hwg_vein_msg_capture *m)
{
	if (t->inject_person[0] != '\0') {
		uint8_t q;

		sim_palm_capture(t->inject_person, SIM_PALM_NOISE_GOOD, &t->rng, m->tmpl, &q);
	} else {
		for (int i = 0; i < 32; i++)
			m->tmpl[i] = (int8_t)~m->tmpl[i];
	}
	t->inject = 0;
	t->inject_person[0] = '\0';
}

static void
answer_capture(struct sim_vein *t)
{
	struct hwg_vein_msg_capture m;
	uint8_t msg[HWG_VEIN_CAPTURE_SIGNED_LEN], p[HWG_VEIN_PAYLOAD_MAX];
	size_t n = 0;

	memset(&m, 0, sizeof(m));
	measure(t, &t->cap.palm, &m);
	m.sig_alg = HWG_VEIN_ALG_ED25519;
	hwg_vein_capture_signed(t->cap.nonce, m.tmpl, m.quality, m.liveness, msg);
	if (ed25519_sign(t->wrong ? t->wrong_key : t->key, msg, sizeof(msg), m.sig) != 0 ||
	    hwg_vein_enc_capture(&m, p, sizeof(p), &n, NULL) != 0) {
		end_capture(t, HWG_VEIN_ST_HW_FAULT);
		return;
	}
	/* what the terminal sent, before anyone on the bus touched it */
	memcpy(t->last_ok, p, n);
	t->last_ok_len = n;
	if (t->inject) {
		tamper(t, &m);
		hwg_vein_enc_capture(&m, p, sizeof(p), &n, NULL);
	}
	queue_frame(t, HWG_VEIN_CAPTURE | HWG_VEIN_RESPONSE, t->cap.seq, p, n);
	hwg_wipe(&t->cap, sizeof(t->cap));
	hwg_wipe(&m, sizeof(m));
	hwg_wipe(p, sizeof(p));
}

static void
take_presentation(struct sim_vein *t, uint64_t now_ms)
{
	struct presentation *head = &t->queue[0];

	t->cap.palm = *head;
	t->cap.palm.count = 1;
	t->cap.decided = 1;
	t->cap.ready_ms = now_ms + t->capture_ms;
	if (--head->count == 0) {
		memmove(t->queue, t->queue + 1, (t->n_queue - 1) * sizeof(t->queue[0]));
		t->n_queue--;
	}
}

/* Settle the running capture at now_ms if it can be: its answer joins the queue. */
static void
advance(struct sim_vein *t, uint64_t now_ms)
{
	if (!t->cap.active)
		return;
	if (t->replay) {
		t->replay = 0;
		queue_frame(t, HWG_VEIN_CAPTURE | HWG_VEIN_RESPONSE, t->cap.seq, t->last_ok,
		            t->last_ok_len);
		hwg_wipe(&t->cap, sizeof(t->cap));
		return;
	}
	if (t->fault) {
		end_capture(t, HWG_VEIN_ST_HW_FAULT);
		return;
	}
	if (!t->cap.decided && t->n_queue > 0)
		take_presentation(t, now_ms);
	/* (no capture time: at once, whatever the clock did since the palm was taken) */
	if (t->cap.decided && t->cap.palm.kind != SIM_VEIN_ABSENT &&
	    (t->capture_ms == 0 || now_ms >= t->cap.ready_ms))
		answer_capture(t);
	else if (now_ms >= t->cap.deadline_ms)
		end_capture(t, HWG_VEIN_ST_TIMEOUT);
}

/* ---------------------------------------------------------------- commands */

static void
cmd_info(struct sim_vein *t, const struct hwg_vein_frame *f)
{
	struct hwg_vein_msg_info m = {HWG_VEIN_ST_OK, "", "", "", HWG_VEIN_TEMPLATE_FORMAT};
	uint8_t p[HWG_VEIN_PAYLOAD_MAX];
	size_t n = 0;

	if (hwg_vein_parse_empty(f->payload, f->payload_len, NULL) != 0) {
		queue_status(t, f->type, f->seq, HWG_VEIN_ST_BAD_REQUEST);
		return;
	}
	strcpy(m.model, t->model);
	strcpy(m.serial, t->serial);
	strcpy(m.firmware, t->firmware);
	if (hwg_vein_enc_info(&m, p, sizeof(p), &n, NULL) != 0) {
		queue_status(t, f->type, f->seq, HWG_VEIN_ST_HW_FAULT);
		return;
	}
	queue_frame(t, f->type | HWG_VEIN_RESPONSE, f->seq, p, n);
}

static int
palm_present(const struct sim_vein *t)
{
	return t->n_queue > 0 && t->queue[0].kind != SIM_VEIN_ABSENT;
}

static int
state_of(const struct sim_vein *t)
{
	if (t->fault)
		return HWG_VEIN_STATE_FAULT;
	return t->cap.active ? HWG_VEIN_STATE_CAPTURING : HWG_VEIN_STATE_IDLE;
}

static void
cmd_status(struct sim_vein *t, const struct hwg_vein_frame *f)
{
	struct hwg_vein_msg_status m = {HWG_VEIN_ST_OK, (uint8_t)state_of(t),
	                                (uint8_t)palm_present(t)};
	uint8_t p[8];
	size_t n = 0;

	if (hwg_vein_parse_empty(f->payload, f->payload_len, NULL) != 0 ||
	    hwg_vein_enc_status(&m, p, sizeof(p), &n, NULL) != 0) {
		queue_status(t, f->type, f->seq, HWG_VEIN_ST_BAD_REQUEST);
		return;
	}
	queue_frame(t, f->type | HWG_VEIN_RESPONSE, f->seq, p, n);
}

static void
cmd_cancel(struct sim_vein *t, const struct hwg_vein_frame *f)
{
	if (hwg_vein_parse_empty(f->payload, f->payload_len, NULL) != 0) {
		queue_status(t, f->type, f->seq, HWG_VEIN_ST_BAD_REQUEST);
		return;
	}
	if (!t->cap.active) {
		queue_status(t, f->type, f->seq, HWG_VEIN_ST_NOT_CAPTURING);
		return;
	}
	end_capture(t, HWG_VEIN_ST_CANCELLED);
	queue_status(t, f->type, f->seq, HWG_VEIN_ST_OK);
}

static void
cmd_capture(struct sim_vein *t, uint64_t now_ms, const struct hwg_vein_frame *f)
{
	struct hwg_vein_msg_capture_req req;

	if (hwg_vein_parse_capture_req(f->payload, f->payload_len, &req, NULL) != 0) {
		queue_status(t, f->type, f->seq, HWG_VEIN_ST_BAD_REQUEST);
		return;
	}
	if (t->cap.active) {
		queue_status(t, f->type, f->seq, HWG_VEIN_ST_BUSY);
		return;
	}
	if (t->fault) {
		queue_status(t, f->type, f->seq, HWG_VEIN_ST_HW_FAULT);
		return;
	}
	memset(&t->cap, 0, sizeof(t->cap));
	t->cap.active = 1;
	t->cap.seq = f->seq;
	memcpy(t->cap.nonce, req.nonce, sizeof(req.nonce));
	t->cap.deadline_ms = now_ms + req.timeout_ms;
}

static void
cmd_pair(struct sim_vein *t, const struct hwg_vein_frame *f)
{
	struct hwg_vein_msg_pair m = {HWG_VEIN_ST_OK, HWG_VEIN_ALG_ED25519, {0}, {0}};
	uint8_t nonce[HWG_VEIN_NONCE_LEN], msg[HWG_VEIN_PAIR_SIGNED_LEN], p[HWG_VEIN_PAYLOAD_MAX];
	size_t n = 0;

	if (hwg_vein_parse_pair_req(f->payload, f->payload_len, nonce, NULL) != 0) {
		queue_status(t, f->type, f->seq, HWG_VEIN_ST_BAD_REQUEST);
		return;
	}
	if (t->cap.active || t->fault) {
		queue_status(t, f->type, f->seq,
		             t->cap.active ? HWG_VEIN_ST_BUSY : HWG_VEIN_ST_HW_FAULT);
		return;
	}
	memcpy(m.pubkey, t->pubkey, sizeof(m.pubkey));
	hwg_vein_pair_signed(nonce, m.pubkey, msg);
	if (ed25519_sign(t->key, msg, sizeof(msg), m.sig) != 0 ||
	    hwg_vein_enc_pair(&m, p, sizeof(p), &n, NULL) != 0) {
		queue_status(t, f->type, f->seq, HWG_VEIN_ST_HW_FAULT);
		return;
	}
	queue_frame(t, f->type | HWG_VEIN_RESPONSE, f->seq, p, n);
}

static void
dispatch(struct sim_vein *t, uint64_t now_ms, const uint8_t *data, size_t len)
{
	struct hwg_vein_frame f;

	if (hwg_vein_frame_decode(data, len, HWG_VEIN_TO_TERMINAL, &f, NULL) != 0) {
		queue_frame(t, HWG_VEIN_ERROR, f.seq_known ? f.seq : 0, &f.refusal, 1);
		return;
	}
	switch (f.type) {
	case HWG_VEIN_GET_INFO:
		cmd_info(t, &f);
		break;
	case HWG_VEIN_CAPTURE:
		cmd_capture(t, now_ms, &f);
		break;
	case HWG_VEIN_CANCEL:
		cmd_cancel(t, &f);
		break;
	case HWG_VEIN_STATUS:
		cmd_status(t, &f);
		break;
	default: /* HWG_VEIN_PAIR: the decoder let no other type through */
		cmd_pair(t, &f);
		break;
	}
}

/* ---------------------------------------------------------------- USB side */

int
sim_vein_write(struct sim_vein *t, uint64_t now_ms, const uint8_t *data, size_t len,
               struct hwg_error *err)
{
	int rc = 0;

	pthread_mutex_lock(&t->lock);
	if (!t->plugged)
		rc = hwg_error_set(err, HWG_E_TERMINAL_REMOVED, "simulated terminal unplugged");
	else if (t->n_answers > ANSWERS_MAX - ANSWERS_RESERVE)
		rc = hwg_error_set(err, HWG_E_UNAVAILABLE, "simulated terminal: %zu answers unread",
		                   t->n_answers);
	else {
		advance(t, now_ms);
		dispatch(t, now_ms, data, len);
	}
	pthread_mutex_unlock(&t->lock);
	return rc;
}

int
sim_vein_read(struct sim_vein *t, uint64_t now_ms, uint8_t *buf, size_t cap, size_t *len)
{
	int rc = SIM_VEIN_NOTHING_YET;

	pthread_mutex_lock(&t->lock);
	if (!t->plugged) {
		rc = HWG_E_TERMINAL_REMOVED;
		goto out;
	}
	advance(t, now_ms);
	if (t->n_answers == 0)
		goto out;
	if (t->answers[0].len > cap) {
		rc = HWG_E_TOO_LARGE;
		goto out;
	}
	memcpy(buf, t->answers[0].frame, t->answers[0].len);
	*len = t->answers[0].len;
	hwg_wipe(&t->answers[0], sizeof(t->answers[0]));
	memmove(t->answers, t->answers + 1, (t->n_answers - 1) * sizeof(t->answers[0]));
	t->n_answers--;
	rc = SIM_VEIN_FRAME_READY;
out:
	pthread_mutex_unlock(&t->lock);
	return rc;
}

int
sim_vein_deadline(struct sim_vein *t, uint64_t *deadline_ms)
{
	int r;

	pthread_mutex_lock(&t->lock);
	r = t->plugged && t->cap.active;
	if (r)
		*deadline_ms = t->cap.decided && t->cap.palm.kind != SIM_VEIN_ABSENT &&
		                       t->cap.ready_ms < t->cap.deadline_ms
		                   ? t->cap.ready_ms
		                   : t->cap.deadline_ms;
	pthread_mutex_unlock(&t->lock);
	return r;
}

/* ---------------------------------------------------------------- controls */

int
sim_vein_present(struct sim_vein *t, enum sim_vein_palm kind, const char *person, unsigned count,
                 struct hwg_error *err)
{
	struct presentation *p;
	int rc = 0;

	if (kind != SIM_VEIN_ABSENT && !person_valid(person))
		return hwg_error_set(err, HWG_E_INVALID,
		                     "a person is 1..%d printable ASCII bytes without spaces",
		                     SIM_VEIN_PERSON_MAX);
	if ((int)kind < SIM_VEIN_GOOD || (int)kind > SIM_VEIN_ABSENT)
		return hwg_error_set(err, HWG_E_INVALID, "presentation kind %d unknown", (int)kind);
	if (count == 0 || count > SIM_VEIN_QUEUE_MAX)
		return hwg_error_set(err, HWG_E_INVALID, "presentation count %u outside 1..%d",
		                     count, SIM_VEIN_QUEUE_MAX);
	pthread_mutex_lock(&t->lock);
	if (t->n_queue == SIM_VEIN_QUEUE_MAX) {
		rc = hwg_error_set(err, HWG_E_UNAVAILABLE, "%d presentations already queued",
		                   SIM_VEIN_QUEUE_MAX);
	} else {
		p = &t->queue[t->n_queue++];
		memset(p, 0, sizeof(*p));
		p->kind = kind;
		p->count = count;
		if (kind != SIM_VEIN_ABSENT)
			strcpy(p->person, person);
	}
	pthread_mutex_unlock(&t->lock);
	return rc;
}

void
sim_vein_clear(struct sim_vein *t)
{
	pthread_mutex_lock(&t->lock);
	hwg_wipe(t->queue, sizeof(t->queue));
	t->n_queue = 0;
	pthread_mutex_unlock(&t->lock);
}

unsigned
sim_vein_queued(struct sim_vein *t)
{
	unsigned n = 0;

	pthread_mutex_lock(&t->lock);
	for (size_t i = 0; i < t->n_queue; i++)
		n += t->queue[i].count;
	pthread_mutex_unlock(&t->lock);
	return n;
}

int
sim_vein_press_cancel(struct sim_vein *t, struct hwg_error *err)
{
	int rc = 0;

	pthread_mutex_lock(&t->lock);
	if (t->plugged && t->cap.active)
		end_capture(t, HWG_VEIN_ST_CANCELLED);
	else
		rc = hwg_error_set(err, HWG_E_NOT_FOUND, "no capture to cancel");
	pthread_mutex_unlock(&t->lock);
	return rc;
}

void
sim_vein_set_wrong_key(struct sim_vein *t, int on)
{
	pthread_mutex_lock(&t->lock);
	t->wrong = on != 0;
	pthread_mutex_unlock(&t->lock);
}

int
sim_vein_replay_next(struct sim_vein *t, struct hwg_error *err)
{
	int rc = 0;

	pthread_mutex_lock(&t->lock);
	if (t->last_ok_len == 0)
		rc = hwg_error_set(err, HWG_E_NOT_FOUND, "no capture to replay yet");
	else
		t->replay = 1;
	pthread_mutex_unlock(&t->lock);
	return rc;
}

int
sim_vein_inject_next(struct sim_vein *t, const char *person, struct hwg_error *err)
{
	if (person != NULL && !person_valid(person))
		return hwg_error_set(err, HWG_E_INVALID,
		                     "a person is 1..%d printable ASCII bytes without spaces",
		                     SIM_VEIN_PERSON_MAX);
	pthread_mutex_lock(&t->lock);
	t->inject = 1;
	if (person != NULL)
		strcpy(t->inject_person, person);
	else
		t->inject_person[0] = '\0';
	pthread_mutex_unlock(&t->lock);
	return 0;
}

void
sim_vein_set_capture_ms(struct sim_vein *t, unsigned ms)
{
	pthread_mutex_lock(&t->lock);
	t->capture_ms = ms;
	pthread_mutex_unlock(&t->lock);
}

void
sim_vein_set_fault(struct sim_vein *t, int on)
{
	pthread_mutex_lock(&t->lock);
	t->fault = on != 0;
	pthread_mutex_unlock(&t->lock);
}

/* Power lost or restored: nothing in flight survives. */
static void
power_cycle(struct sim_vein *t)
{
	hwg_wipe(t->answers, sizeof(t->answers));
	t->n_answers = 0;
	hwg_wipe(&t->cap, sizeof(t->cap));
}

void
sim_vein_unplug(struct sim_vein *t)
{
	pthread_mutex_lock(&t->lock);
	t->plugged = 0;
	power_cycle(t);
	pthread_mutex_unlock(&t->lock);
}

void
sim_vein_plug(struct sim_vein *t)
{
	pthread_mutex_lock(&t->lock);
	if (!t->plugged)
		power_cycle(t);
	t->plugged = 1;
	pthread_mutex_unlock(&t->lock);
}

int
sim_vein_plugged(struct sim_vein *t)
{
	int r;

	pthread_mutex_lock(&t->lock);
	r = t->plugged;
	pthread_mutex_unlock(&t->lock);
	return r;
}

int
sim_vein_state(struct sim_vein *t)
{
	int r;

	pthread_mutex_lock(&t->lock);
	r = state_of(t);
	pthread_mutex_unlock(&t->lock);
	return r;
}

const char *
sim_vein_serial(const struct sim_vein *t)
{
	return t->serial; /* fixed at creation */
}

void
sim_vein_pubkey(const struct sim_vein *t, uint8_t out[HWG_VEIN_PUBKEY_LEN])
{
	memcpy(out, t->pubkey, HWG_VEIN_PUBKEY_LEN); /* fixed at creation */
}

void
sim_vein_fingerprint(const struct sim_vein *t, char out[HWG_VEIN_FINGERPRINT_LEN + 1])
{
	hwg_vein_fingerprint(t->pubkey, out);
}
