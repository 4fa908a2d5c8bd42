/*
 * hwg_config.h — hwgwd's configuration file (INI, read with libinih).
 *
 * Every setting has a safe default except the gateway id, the state
 * directory and the HSM (which a city must choose).  Parsing checks each
 * value and refuses the whole file, naming the file, line, section and
 * key, rather than starting with a half-understood configuration.  The
 * annotated example is gateway/hwgwd.conf.example.
 */
#ifndef HWG_CONFIG_H
#define HWG_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "hwg_err.h"

#define HWG_MAX_ORIGINS 16
#define HWG_MAX_USB_IDS 8

struct hwg_config {
	/* [gateway] */
	char *gateway_id;
	char *state_dir;
	char *libexec_dir; /* hwgw-net and hwgw-keyholder; NULL: hwg_helper_path searches */
	unsigned workers;  /* the privileged process's pool of request workers */
	int log_level;     /* enum hwg_log_level */
	/* [api] */
	size_t max_body;       /* bytes, default 64 KiB */
	int64_t clock_skew_ms; /* default 30 s */
	int64_t max_age_ms;    /* a request not started by its t plus this is expired; 30 s */
	int alg_es256;         /* allowed algorithms */
	int alg_eddsa;
	/* [unix] */
	char *socket_path;                /* NULL or "" = no Unix socket */
	unsigned socket_mode;             /* default 0660 */
	unsigned max_connections_per_uid; /* default max_connections / 2 */
	/* [http] */
	char *http_listen; /* NULL or "" = no HTTP */
	unsigned http_port;
	int http_allow_remote;             /* a non-loopback listen address needs this */
	unsigned max_connections;          /* per transport, default 64 */
	unsigned max_connections_per_peer; /* per client address, default max_connections / 2 */
	unsigned connection_timeout_s;     /* idle timeout, default 30 */
	unsigned header_timeout_s;  /* request start to its head complete (both transports), 5 */
	unsigned request_timeout_s; /* request start to its last body byte (both transports), 10 */
	char *origins[HWG_MAX_ORIGINS];
	size_t n_origins;
	/* [hsm] */
	char *hsm_module;
	char *hsm_token;
	char *hsm_pin_file;
	char *hsm_response_key; /* label, default "hwgw-response" */
	char *hsm_audit_key;    /* label, default "hwgw-audit" */
	char *hsm_template_key; /* AES key sealing palm templates, default "hwgw-template" */
	char *hsm_seal_key;     /* EC P-256 key sealing certificates, default "hwgw-seal" */
	unsigned hsm_signers;   /* token sessions signing at once, default the cores (1 .. 16) */
	/* [card] */
	int card_enabled;             /* watch readers through pcscd, default yes */
	char *card_roots;             /* directory of trusted JPKI roots (authenticate) */
	char *card_crls;              /* directory of CRLs an operator process refreshes */
	int64_t card_crl_grace_s;     /* accept a CRL this long past nextUpdate, default 0 */
	char *card_integrity_key;     /* PEM public key of the input-support AP's issuer */
	int card_timeout_ms;          /* wait for a reader busy with another request */
	unsigned card_mynumber_roles; /* HWG_ROLE_BIT()s that see the My Number unmasked */
	/* [vein] */
	int vein_enabled;                          /* drive palm-vein terminals, default yes */
	uint16_t vein_usb_ids[HWG_MAX_USB_IDS][2]; /* vendor, product; default 1209:0001 */
	size_t vein_n_usb_ids;
	int vein_scan_interval_ms;   /* rescan period without hot-plug, default 1000 */
	int vein_command_timeout_ms; /* GET_INFO, STATUS, PAIR, CANCEL; default 1000 */
	int vein_capture_timeout_ms; /* wait for a palm, default 15000 */
	double vein_threshold;       /* match score needed, 0..1 */
	int vein_min_quality;        /* 0..100, default 40 */
	int vein_min_liveness;       /* 0..100, default 50 */
	int vein_identify;           /* 1:N identification, default no */
	/* [cert] */
	int cert_enabled;       /* issue certificates (renderer, seal key), default yes */
	char *cert_city;        /* the issuing city as the page names it */
	char *cert_mayor;       /* the mayor's name on the certification */
	char *cert_gaiji_table; /* 外字 glyph table (gateway/renderer/README.md); NULL: none */
	int cert_render_timeout_ms; /* one render at most, default 20000 */
	int cert_job_timeout_ms;    /* a print job from its first byte to its END, default 120000 */
	/* [printer] */
	int printer_enabled;            /* drive USB certificate printers, default yes */
	int printer_scan_interval_ms;   /* rescan period without hot-plug, default 1000 */
	int printer_command_timeout_ms; /* class requests and status read-backs, default 2000 */
	/* [operator] */
	int64_t operator_session_idle_s; /* default 600 */
	int64_t operator_session_max_s;  /* default 28800 */
	int operator_max_failures;       /* in a row before a lockout, default 5 */
	int64_t operator_lockout_s;      /* default 900 */
	/* [audit] */
	int64_t checkpoint_every;      /* records, default 1000 */
	int64_t checkpoint_interval_s; /* seconds, default 300 */
};

/* Defaults for everything that has one. */
void hwg_config_defaults(struct hwg_config *c);
/*
 * Read path over the defaults; HWG_E_CONFIG with file:line and key on
 * error.  The file must be text (no NUL byte) of at most
 * HWG_CONFIG_FILE_MAX bytes.
 */
/*
 * The default [vein] threshold.  On hw-sim's synthetic population
 * (tests/bench/bench_match.c: 1,000 people, 3,000 genuine and 4.5 million
 * impostor pairs of captures) it gives a false-accept rate of about 5e-7
 * and a false-reject rate of about 1e-3 between single good captures,
 * and about 2e-6 / 0 between an enrolled (fused) template and a fresh
 * capture, the comparison operator.verify makes.  The equal-error point
 * lies lower (about 0.45, at ~1e-5); we sit above it because a false
 * accept lets somebody work as another operator while a false reject
 * costs a second try at the terminal (and a run of them only locks the
 * operator out for a while).
 */
#define HWG_MATCH_THRESHOLD_DEFAULT 0.50

#define HWG_CONFIG_FILE_MAX (1024 * 1024)
int hwg_config_load(const char *path, struct hwg_config *c, struct hwg_error *err);
/*
 * The same for the configuration text itself; name stands for the file
 * in messages.  hwg_config_clear() c afterwards in either case: a refused
 * text may have set some strings already.
 */
int hwg_config_parse_string(const char *text, const char *name, struct hwg_config *c,
                            struct hwg_error *err);
/* Free every string; accepts a zeroed struct. */
void hwg_config_clear(struct hwg_config *c);

#endif
