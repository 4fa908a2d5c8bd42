/*
 * counter.h — what the steps of hwgw-counter share: the station's
 * configuration, the connection to the gateway (libhwgw) and to the
 * register (libhwgw-registry), the station's state directory, and how a
 * step reports what happened (to a clerk in words, to a script as JSON).
 *
 * hwgw-counter is one visit at a resident-register counter, one command
 * per step (counter/README.md): login, card, identify, issue, status,
 * supervise, move-in, household, logout.  It includes only client/ and
 * registry/ headers (and common/ below them): it is a client of the
 * gateway like any other, and never touches a device itself.
 */
#ifndef COUNTER_H
#define COUNTER_H

#include <cbor.h>
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "hwg_err.h"

/* Exit statuses. */
#define CTR_EXIT_OK 0
#define CTR_EXIT_REFUSED 1 /* the gateway, a device or the register said no */
#define CTR_EXIT_ERROR 2   /* usage, configuration, connection */
#define CTR_EXIT_PENDING 3 /* an outcome is not known yet: `status` or a supervisor */

#define CTR_PATH_MAX 4096

/* The station's configuration (counter.conf, counter/README.md); all strings owned. */
struct ctr_conf {
	/* [client]: as hwgwctl's profile */
	char *client_id, *key, *gateway_id, *gateway_pub, *socket;
	/* [counter] */
	char *terminal, *reader, *printer, *state_dir, *operator_id, *mynumber_roles;
	/* [registry] */
	char *db, *mn_key, *registry_key, *registry_id;
	/* registry_key "pkcs11:LABEL": the key on this token */
	char *p11_module, *p11_token, *p11_pin_file;
	char *mn_key_hsm; /* mn_key sealed by this HSM key */
};

int ctr_conf_load(const char *path, struct ctr_conf *c, struct hwg_error *err);
void ctr_conf_clear(struct ctr_conf *c);

/* One run of the program: the configuration, output mode and the step's result. */
struct ctr {
	struct ctr_conf conf;
	int json;       /* --json: one JSON object on stdout */
	int quiet;      /* no progress lines */
	json_t *result; /* what --json prints (a step adds to it) */
};

/* ---------------------------------------------------------------- output */

/* A progress line for the clerk (stderr, nothing with --json or --quiet). */
void ctr_progress(const struct ctr *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A line of the step's answer for the clerk (stdout; nothing with --json). */
void ctr_say(const struct ctr *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Add key to the JSON result (takes value's reference). */
void ctr_set(struct ctr *c, const char *key, json_t *value);

/*
 * A failure, in words: what went wrong (code: an API or registry error
 * name), which device or part, and what to do.  Printed on stderr for a
 * clerk, or as "error" in the JSON result; returns exit.
 */
struct ctr_fail {
	const char *code;    /* stable name: a gateway error code, or the counter's own */
	const char *device;  /* "card reader \"hwsim 00 00\"", "gateway", "register", ... */
	const char *message; /* what happened */
	const char *action;  /* what to do now */
	int tries;           /* PIN tries left, or -1 */
};
int ctr_failed(struct ctr *c, int exit, const struct ctr_fail *f);
/* ctr_failed for a local error (configuration, files, the register's connection). */
int ctr_error(struct ctr *c, const char *device, const struct hwg_error *err, const char *action);

/* ---------------------------------------------------------------- gateway */

/* One verified answer of the gateway. */
struct ctr_answer {
	cbor_item_t *result;  /* ok: owned */
	char code[48];        /* refused: the error code */
	char message[256];    /* refused: the gateway's message */
	int tries;            /* pin_wrong / pin_locked, else -1 */
	uint8_t req_hash[32]; /* SHA-256 of the request sent (request.status) */
	int64_t req_t;        /* its "t", ms */
	int64_t gw_t;         /* the answer's "t": the gateway's time, ms */
	int sent;             /* the request may have reached the gateway */
};
void ctr_answer_clear(struct ctr_answer *a);

/*
 * Sign op with args (NULL for {}) and the operator session in the state
 * directory when with_session (HWG_E_SESSION when there is none), send it
 * and verify the answer.  0: a verified answer (a result or a refusal);
 * else a transport or verification failure in err, a->sent telling
 * whether the request may have left.  before_send (may be NULL) sees the
 * request's hash and time before a byte leaves; nonzero stops.
 */
struct ctr_call {
	const char *op;
	const cbor_item_t *args;
	int with_session;
	const uint8_t *session; /* an explicit token (supervise), else the file's */
	size_t session_len;
	int (*before_send)(void *arg, const struct ctr_answer *a, struct hwg_error *err);
	void *arg;
};
int ctr_gw_call(struct ctr *c, const struct ctr_call *call, struct ctr_answer *a,
                struct hwg_error *err);
/* ctr_gw_call's failure (transport or verification) as the clerk's words. */
int ctr_gw_unreachable(struct ctr *c, const char *op, const struct hwg_error *err);
/* A refusal by the gateway or a device, in the clerk's words. */
int ctr_gw_refused(struct ctr *c, const char *op, const struct ctr_answer *a);

/* request.status for an answer that was lost: "ran", "running", "refused", "unknown". */
struct ctr_reqstatus {
	char state[16];
	char code[48];
	int64_t t_ms, max_age_ms;
	int64_t gw_now_ms; /* the gateway's time when it answered */
};
int ctr_gw_request_status(struct ctr *c, const uint8_t hash[32], struct ctr_reqstatus *st,
                          struct hwg_error *err);

/* ---------------------------------------------------------------- state */

/* A file in the state directory (created 0700 on first use). */
int ctr_state_path(const struct ctr *c, const char *name, char out[CTR_PATH_MAX],
                   struct hwg_error *err);
/* Write data to the state file name, mode 0600, atomically (temporary file, fsync, rename). */
int ctr_state_write(const struct ctr *c, const char *name, const void *data, size_t len,
                    struct hwg_error *err);
/* Read the state file name (malloc'd, NUL-terminated); HWG_E_NOT_FOUND when absent. */
int ctr_state_read(const struct ctr *c, const char *name, char **out, size_t *len,
                   struct hwg_error *err);
/* Remove the state file name (wiped first); absent is fine. */
int ctr_state_remove(const struct ctr *c, const char *name, struct hwg_error *err);

/* key=value lines of a state file: the value of key, copied into out, or -1. */
int ctr_kv_get(const char *text, const char *key, char *out, size_t outlen);
/* The value of key in the state file name, into out; "" when either is absent. */
void ctr_state_value(const struct ctr *c, const char *name, const char *key, char *out,
                     size_t outlen);

/* The session token (the file "session", hex): into tok, *len. HWG_E_SESSION when absent. */
int ctr_session_load(const struct ctr *c, uint8_t *tok, size_t *len, struct hwg_error *err);

/* ---------------------------------------------------------------- helpers */

/* The PIN: from pin_file (mode 0600, ours; one line), else the terminal without echo. */
struct hwg_secret;
int ctr_pin_read(const char *pin_file, const char *prompt, struct hwg_secret **out,
                 struct hwg_error *err);

/* A card.* request's arguments: {"reader": ..., "pin": ...} (pin may be NULL). */
cbor_item_t *ctr_card_args(const struct ctr *c, const struct hwg_secret *pin);

/* CBOR result helpers: a text value (or ""), an unsigned value (or -1). */
const char *ctr_text(const cbor_item_t *map, const char *key, char *buf, size_t len);
int64_t ctr_uint(const cbor_item_t *map, const char *key);

/* Open the register named in [registry]. */
struct hwgw_registry;
int ctr_registry_open(struct ctr *c, struct hwgw_registry **out);

/* ---------------------------------------------------------------- steps */

int ctr_step_login(struct ctr *c, int argc, char **argv);
int ctr_step_logout(struct ctr *c, int argc, char **argv);
int ctr_step_card(struct ctr *c, int argc, char **argv);
int ctr_step_identify(struct ctr *c, int argc, char **argv);
int ctr_step_issue(struct ctr *c, int argc, char **argv);
int ctr_step_status(struct ctr *c, int argc, char **argv);
int ctr_step_supervise(struct ctr *c, int argc, char **argv);
int ctr_step_move_in(struct ctr *c, int argc, char **argv);
int ctr_step_household(struct ctr *c, int argc, char **argv);

#endif
