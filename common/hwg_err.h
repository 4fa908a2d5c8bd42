/*
 * hwg_err.h — the one error vocabulary of hwgw.
 *
 * Every function that can fail returns 0 or a negative HWG_E_* code, and
 * may fill a struct hwg_error with a human message for the operator.
 * Library-specific codes (PKCS#11 CKR_*, SQLite, OpenSSL, libcbor) are
 * converted at the module boundary and never leak upward.  Each code has a
 * stable wire name (hwg_err_code) that clients may switch on; the names
 * are part of the API (gateway/api.cddl) and never change meaning.
 */
#ifndef HWG_ERR_H
#define HWG_ERR_H

#include <stdarg.h>
#include <stddef.h>

enum {
	HWG_OK = 0,
	/* request refusals: one per check in the verification pipeline */
	HWG_E_BAD_ENCODING = -1,    /* not CBOR, not COSE_Sign1, trailing bytes */
	HWG_E_BAD_VERSION = -2,     /* protocol version we do not speak */
	HWG_E_UNKNOWN_CLIENT = -3,  /* client id not registered */
	HWG_E_UID_NOT_ALLOWED = -4, /* peer uid not among the client's uids */
	HWG_E_ALG_NOT_ALLOWED = -5, /* COSE alg not in the allow-list */
	HWG_E_BAD_SIGNATURE = -6,   /* signature does not verify */
	HWG_E_WRONG_AUDIENCE = -7,  /* request addressed to another gateway */
	HWG_E_CLOCK_SKEW = -8,      /* request time outside the window */
	HWG_E_REPLAY = -9,          /* nonce seen within the window */
	HWG_E_UNKNOWN_OP = -10,     /* operation name unknown */
	HWG_E_FORBIDDEN = -11,      /* operation not allowed for the role */
	HWG_E_BAD_ARGS = -12,       /* arguments fail the operation's schema */
	HWG_E_TOO_LARGE = -13,      /* body over the size limit */
	HWG_E_ORIGIN = -14,         /* browser origin not in the allow-list */
	HWG_E_SESSION = -15,        /* operator session missing or expired */
	HWG_E_EXPIRED = -16,        /* not started by its time plus [api] max_age */
	/* service-side failures */
	HWG_E_AUDIT = -30,    /* audit record could not be made durable */
	HWG_E_HSM = -31,      /* HSM token, session or key problem */
	HWG_E_STORE = -32,    /* state store failure */
	HWG_E_INTERNAL = -33, /* bug or resource exhaustion */
	HWG_E_NOMEM = -34,
	HWG_E_IO = -35,           /* transport or file I/O */
	HWG_E_CONFIG = -36,       /* configuration invalid */
	HWG_E_NOT_FOUND = -37,    /* named object does not exist */
	HWG_E_EXISTS = -38,       /* object already exists */
	HWG_E_INVALID = -39,      /* invalid argument from a local caller */
	HWG_E_TAMPERED = -40,     /* audit chain or checkpoint does not verify */
	HWG_E_BAD_RESPONSE = -41, /* (client side) response fails verification */
	HWG_E_UNAVAILABLE = -42,  /* shutting down or over a limit, retry later */
	/* devices: cards and certificates (drivers/card, crypto/hwg_x509) */
	HWG_E_NO_READER = -50,        /* named reader does not exist */
	HWG_E_NO_CARD = -51,          /* no card in the reader */
	HWG_E_CARD_REMOVED = -52,     /* card removed during the operation */
	HWG_E_CARD_RESET = -53,       /* card reset by another party during the operation */
	HWG_E_PCSC_UNAVAILABLE = -54, /* pcscd not running or went away */
	HWG_E_CARD_TIMEOUT = -55,     /* card or reader busy or silent past the timeout */
	HWG_E_CARD_ERROR = -56,       /* card answered something the protocol does not allow */
	HWG_E_CARD_RETIRED = -57,     /* retired card type (住基カード) */
	HWG_E_CARD_UNSUPPORTED = -58, /* not a My Number card */
	HWG_E_PIN_WRONG = -59,        /* wrong PIN or password; tries left in the result */
	HWG_E_PIN_LOCKED = -60,       /* PIN or password locked; no VERIFY was sent */
	HWG_E_PIN_FORMAT = -61,       /* PIN or password breaks its rules; no APDU was sent */
	HWG_E_CERT_UNTRUSTED = -62,   /* certificate does not chain to a configured root */
	HWG_E_CERT_EXPIRED = -63,     /* certificate outside its validity period */
	HWG_E_CERT_REVOKED = -64,     /* certificate on its issuer's CRL */
	HWG_E_CRL_STALE = -65,        /* CRL missing or past nextUpdate plus grace */
	HWG_E_CARD_SIGNATURE = -66,   /* the card's signature does not verify */
	/* devices: palm-vein terminals (drivers/vein) and operators (gateway) */
	HWG_E_NO_TERMINAL = -70,       /* named terminal not connected */
	HWG_E_TERMINAL_UNPAIRED = -71, /* terminal's device key not recorded by an admin */
	HWG_E_TERMINAL_REMOVED = -72,  /* terminal unplugged during the operation */
	HWG_E_TERMINAL_BUSY = -73,     /* terminal already capturing for another request */
	HWG_E_TERMINAL_ERROR = -74,    /* terminal answered outside the protocol */
	HWG_E_CAPTURE_TIMEOUT = -75,   /* no palm presented within the timeout */
	HWG_E_CAPTURE_CANCELLED = -76, /* capture cancelled (by a client or at the terminal) */
	HWG_E_CAPTURE_QUALITY = -77,   /* capture below the configured quality */
	HWG_E_LIVENESS = -78,          /* capture failed the liveness check */
	HWG_E_DEVICE_SIGNATURE =
	    -79,              /* capture not signed by the paired device key for this nonce */
	HWG_E_NO_MATCH = -80, /* palm does not match the claimed operator */
	HWG_E_UNKNOWN_OPERATOR = -81,  /* operator id not enrolled */
	HWG_E_OPERATOR_LOCKED = -82,   /* too many failed verifications; locked for a while */
	HWG_E_OPERATOR_EXPIRED = -83,  /* operator past valid_until, or revoked */
	HWG_E_TEMPLATE_TAMPERED = -84, /* sealed template does not open for this operator */
	HWG_E_ENROLL_MISMATCH = -85,   /* enrolment captures do not agree with each other */
	HWG_E_DUPLICATE_PALM = -86,    /* palm already matches another enrolled operator */
	/* devices: certificate printers (drivers/printer) */
	HWG_E_PRINTER_ERROR = -90,   /* printer answered outside the protocol */
	HWG_E_NO_PRINTER = -91,      /* no printer with that serial (or none) connected */
	HWG_E_PAPER_OUT = -92,       /* paper out: nothing of the job was sent */
	HWG_E_PRINTER_JAM = -93,     /* paper jam during the job */
	HWG_E_PRINTER_OFFLINE = -94, /* printer offline or its door open */
	HWG_E_PRINTER_REMOVED = -95, /* printer unplugged during the job */
	HWG_E_PRINT_UNCONFIRMED =
	    -96, /* job sent, its end never confirmed: held for a supervisor */
	/* certificates (gateway/ops/op_cert.c) */
	HWG_E_DOCUMENT_SIGNATURE = -100, /* document not signed by a registered registry key */
	HWG_E_DOCUMENT_MISMATCH = -101,  /* fields are not those of the record version signed */
	HWG_E_DOCUMENT_INVALID = -102,   /* a required field missing, or a field's format wrong */
	HWG_E_MY_NUMBER_NOT_ALLOWED = -103, /* My Number asked for where it may not be shown */
	HWG_E_RENDER_FAILED = -104,         /* the renderer failed or died: nothing was printed */
	HWG_E_REQUEST_CONFLICT = -105,      /* request id already used for another document */
	HWG_E_WRONG_STATE = -106,           /* issuance not in the state the operation needs */
	/* the register (registry/) */
	HWG_E_CHECK_DIGIT = -110,        /* a My Number or resident code with a wrong check digit */
	HWG_E_ALREADY_REGISTERED = -111, /* move-in or birth of a person already registered */
	HWG_E_LOGIC_CHECK = -112,        /* a change the source documents' logic checks refuse */
	HWG_E_NOT_RESIDENT = -113,   /* the record is not a current resident's (moved out, dead) */
	HWG_E_SEARCH_TOO_FEW = -114, /* five-fact search with fewer than two items besides sex */
	HWG_E_NOT_ENTITLED = -115,   /* requester may not get this certificate (neutral wording) */
	HWG_E_ISSUANCE_HELD = -116,  /* the person's own record is held by a control flag */
	HWG_E_RECORD_BLOCKED = -117, /* record awaits reconciliation: no certificate or notice */
	HWG_E_MOVEOUT_MISMATCH = -118, /* special move-in: card facts differ from move-out data */
	HWG_E_MIN_ = -119
};

/* An error value with its message.  code is 0 when nothing failed. */
struct hwg_error {
	int code;
	char message[256];
};

/* Stable wire name of a code ("bad_signature"); "unknown" if not a code. */
const char *hwg_err_code(int code);
/* Inverse of hwg_err_code; HWG_E_INTERNAL for an unknown name. */
int hwg_err_from_code(const char *name);
/* Generic human text of a code. */
const char *hwg_err_text(int code);
/*
 * The HTTP status a response carrying code is sent with (it only
 * summarises the error class; the signed body says which): 500 for a
 * code outside the table.
 */
int hwg_err_http_status(int code);

/*
 * Record code and a printf-style message in err (which may be NULL) and
 * return code, so that callers can write `return hwg_error_set(err, ...)`.
 * Messages must never contain secrets (PINs, keys, My Numbers).
 */
int hwg_error_set(struct hwg_error *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/*
 * The same, the message after "what: " (a parser naming what it read, as
 * "printer device ID: ..."); the va_list form for a caller's own variadic
 * function.
 */
int hwg_error_prefixed(struct hwg_error *err, int code, const char *what, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
int hwg_error_vprefixed(struct hwg_error *err, int code, const char *what, const char *fmt,
                        va_list ap) __attribute__((format(printf, 4, 0)));
void hwg_error_clear(struct hwg_error *err);

#endif
