/*
 * hwg_keyholder.h — the privileged process's side of the keyholder.
 *
 * The PKCS#11 module is loaded only in hwgw-keyholder, a small process of
 * its own under a tight seccomp filter, which holds the token session and
 * answers fixed-shape requests: sign a response (a COSE Sig_structure
 * over a response map, nothing else), sign an audit checkpoint (given its
 * fields; it computes the digest), seal and open a palm-vein template,
 * and report the token's state and the public keys
 * (firmware-notes/pkcs11.md, "The keyholder").  This library starts it
 * (fork + exec, the link on descriptor 3), sends it one request at a time
 * and restarts it when it ends, with the net process's back-off
 * (common/hwg_backoff.h).  It never loads the module itself.
 *
 * Thread-safe: any number of threads may call the request functions; one
 * request is on the link at a time.  hwg_keyholder_start, _reap and _stop
 * belong to one thread (the main loop).  While no keyholder runs (it died
 * and is not restarted yet), every request fails with HWG_E_HSM at once.
 */
#ifndef HWG_KEYHOLDER_H
#define HWG_KEYHOLDER_H

#include <openssl/evp.h>
#include <stddef.h>
#include <stdint.h>

#include "hwg_certcode.h"
#include "hwg_err.h"
#include "hwg_match.h"

/* A sealed template: "PVS1" ‖ IV (12) ‖ ciphertext ‖ tag (16) (hwg_templates.h). */
#define HWG_KEYHOLDER_BLOB_LEN (4 + 12 + HWG_MATCH_DIM + 16)
/* The longest DER SubjectPublicKeyInfo INFO carries (P-256: 91 bytes, Ed25519: 44). */
#define HWG_KEYHOLDER_SPKI_MAX 160
/* How long a starting keyholder has to open its token and say it is ready. */
#define HWG_KEYHOLDER_READY_MS 10000

struct hwg_keyholder;

struct hwg_keyholder_config {
	const char *exe;          /* NULL: beside hwgwd, else its ../libexec/hwgw/ */
	const char *module_path;  /* [hsm] module */
	const char *token_label;  /* [hsm] token */
	const char *pin_file;     /* [hsm] pin_file */
	const char *response_key; /* [hsm] response_key */
	const char *audit_key;    /* [hsm] audit_key (EC P-256) */
	const char *template_key; /* [hsm] template_key; NULL or "": none (no vein) */
	const char *seal_key; /* [hsm] seal_key (EC P-256); NULL or "": none (no certificates) */
	unsigned signers;     /* [hsm] signers: signatures at once; 0 or 1: one */
};

/* How one keyholder ended, for the audit record gateway.keyholder_restart. */
struct hwg_keyholder_end {
	long pid;
	int status;            /* as waitpid gave it; -1 if someone else reaped it */
	int64_t restart_in_ms; /* the next one starts after this delay (0: now; -1: never) */
	const char *why;       /* "" or why it was ended or refused to start */
	const char *detail;    /* "pid=N signal=S|exit=E restart_in_ms=D[ why=...]" */
};
typedef void (*hwg_keyholder_end_fn)(void *arg, const struct hwg_keyholder_end *end);

/*
 * Start a keyholder and wait (HWG_KEYHOLDER_READY_MS at most) until it has
 * opened the token and its keys and entered its filter.  on_end (may be
 * NULL) is called from hwg_keyholder_reap for every keyholder that ended.
 * Fails with the keyholder's own error (HWG_E_HSM, HWG_E_CONFIG,
 * HWG_E_NOT_FOUND, ...) when it could not start; nothing is left running.
 */
int hwg_keyholder_start(const struct hwg_keyholder_config *cfg, hwg_keyholder_end_fn on_end,
                        void *arg, struct hwg_keyholder **out, struct hwg_error *err);
/*
 * From the main loop, each second and on SIGCHLD: wait for an ended
 * keyholder (waitpid on its pid only), report it to on_end and start the
 * next one now or once its back-off delay has passed (a start waits up to
 * HWG_KEYHOLDER_READY_MS for it).  A restarted keyholder whose keys are
 * not those of the first one is killed (the public keys already handed
 * out must stay true), and its end reported.  One whose token refused the
 * PIN is not started again (restart_in_ms -1): a real HSM locks the PIN
 * after a few tries; requests then fail with HWG_E_HSM until hwgwd is
 * restarted.
 */
void hwg_keyholder_reap(struct hwg_keyholder *k);
/* Close the link, wait for the keyholder to exit (SIGKILL after 5 s); accepts NULL. */
void hwg_keyholder_stop(struct hwg_keyholder *k);
/* The running keyholder's pid, 0 when none (logs, tests). */
long hwg_keyholder_pid(struct hwg_keyholder *k);

struct hwg_keyholder_key {
	int alg;                              /* HWG_COSE_ES256 or HWG_COSE_EDDSA */
	uint8_t spki[HWG_KEYHOLDER_SPKI_MAX]; /* DER SubjectPublicKeyInfo */
	size_t spki_len;
};

struct hwg_keyholder_info {
	char label[33];
	char manufacturer[33];
	char model[17];
	char serial[17];
	int present;                   /* token present in its slot */
	int logged_in;                 /* the keyholder's session is logged in */
	unsigned long session_reopens; /* times this keyholder re-opened its session */
	struct hwg_keyholder_key response, audit;
	int template_key;              /* a template key is configured (found at start) */
	int seal_key;                  /* a seal key was found at start: then seal is its */
	struct hwg_keyholder_key seal; /* EC P-256 */
};

/* The token's state now and the keys (the same as at start for every keyholder). */
int hwg_keyholder_info(struct hwg_keyholder *k, struct hwg_keyholder_info *out,
                       struct hwg_error *err);
/* A key from INFO as an OpenSSL public key (the caller frees it); NULL if it does not parse. */
EVP_PKEY *hwg_keyholder_key_public(const struct hwg_keyholder_key *key);
/* The response key's COSE algorithm (fixed at start). */
int hwg_keyholder_response_alg(struct hwg_keyholder *k);
/*
 * The public keys the first keyholder reported (a restarted one with other
 * keys is killed, so these stay true): no request, no token call.
 */
void hwg_keyholder_keys(struct hwg_keyholder *k, struct hwg_keyholder_key *response,
                        struct hwg_keyholder_key *audit);
/* The seal key the first keyholder reported: 0, or HWG_E_NOT_FOUND when the token has none. */
int hwg_keyholder_seal_key(struct hwg_keyholder *k, struct hwg_keyholder_key *seal);

/*
 * A hwg_cose_signer_fn (crypto/hwg_cose.h); keyholder is the struct
 * hwg_keyholder.  tbs must be the Sig_structure of a response map
 * (gateway/api.cddl) under alg, the response key's algorithm; anything
 * else is refused by the keyholder (HWG_E_BAD_ARGS), which stays up.
 */
int hwg_keyholder_sign_response(void *keyholder, int alg, const uint8_t *tbs, size_t tbs_len,
                                uint8_t sig[64], struct hwg_error *err);
/*
 * A hwg_audit_cp_sign_fn (gateway/state/hwg_audit.h): the ES256 signature of
 * the checkpoint (seq, hash, time_ms) by the audit key; the keyholder
 * computes hwg_audit_checkpoint_digest itself.
 */
int hwg_keyholder_sign_checkpoint(void *keyholder, int64_t seq, const uint8_t hash[32],
                                  int64_t time_ms, uint8_t sig[64], struct hwg_error *err);
/*
 * hwg_template_seal and hwg_template_open (gateway/palm/hwg_templates.h), run
 * by the keyholder with its template key: the same arguments, results
 * and errors, and HWG_E_BAD_ARGS for an operator id outside its grammar
 * (1-64 of A-Z a-z 0-9 . _ -).  *blob is malloc'd; tmpl is written only on
 * success.
 */
int hwg_keyholder_seal_template(struct hwg_keyholder *k, const char *operator_id,
                                const int8_t tmpl[HWG_MATCH_DIM], uint8_t **blob, size_t *blob_len,
                                struct hwg_error *err);
int hwg_keyholder_open_template(struct hwg_keyholder *k, const char *operator_id,
                                const uint8_t *blob, size_t blob_len, int8_t tmpl[HWG_MATCH_DIM],
                                struct hwg_error *err);

/*
 * A certificate's verification code: the keyholder builds the summary
 * map from s's fields and signs it with the seal key (ES256, kid = s->gw;
 * crypto/hwg_certcode.h); *cose (malloc'd) is the COSE_Sign1, whose text
 * hwg_certcode_text makes.  The answer is checked here before it is
 * given: a COSE_Sign1 of exactly s, verifying with the seal key (a
 * keyholder answering anything else is ended: HWG_E_HSM).
 * HWG_E_NOT_FOUND without a seal key; HWG_E_INVALID (nothing sent) for a
 * summary that hwg_certcode_summary_check refuses.
 */
int hwg_keyholder_seal_summary(struct hwg_keyholder *k, const struct hwg_certcode_summary *s,
                               uint8_t **cose, size_t *cose_len, struct hwg_error *err);
/*
 * A certificate PDF's seal: the seal key's ES256 signature (raw r || s)
 * over ["hwgw-pdf-seal-v1", issuance_no, pdf_digest], checked here with
 * the seal key (hwg_certcode_pdf_seal_verify) before it is given.
 * HWG_E_NOT_FOUND without a seal key, HWG_E_INVALID for a number that is
 * no issuance number.
 */
int hwg_keyholder_seal_pdf(struct hwg_keyholder *k, const char *issuance_no,
                           const uint8_t pdf_digest[32], uint8_t seal[HWG_CERTCODE_SEAL_LEN],
                           struct hwg_error *err);

/*
 * Tests only: send one request of any type and body; returns the
 * keyholder's answer code (0 when it served it, its result dropped).
 */
int hwg_keyholder_test_raw(struct hwg_keyholder *k, uint8_t type, const uint8_t *body, size_t len,
                           struct hwg_error *err);

#endif
