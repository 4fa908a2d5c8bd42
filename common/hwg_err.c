/*
 * hwg_err.c — names and texts for the error codes of hwg_err.h.
 */
#include "hwg_err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

struct err_name {
	int code;
	const char *name;
	const char *text;
	int http; /* the HTTP status that summarises it (api.cddl, "HTTP status") */
};

static const struct err_name err_names[] = {
    {HWG_OK, "ok", "success", 200},
    {HWG_E_BAD_ENCODING, "bad_encoding", "message is not a well-formed COSE_Sign1 request", 400},
    {HWG_E_BAD_VERSION, "bad_version", "protocol version not supported", 400},
    {HWG_E_UNKNOWN_CLIENT, "unknown_client", "client id is not registered", 401},
    {HWG_E_UID_NOT_ALLOWED, "uid_not_allowed", "peer uid is not allowed for this client", 403},
    {HWG_E_ALG_NOT_ALLOWED, "alg_not_allowed", "signature algorithm not allowed", 401},
    {HWG_E_BAD_SIGNATURE, "bad_signature", "signature does not verify", 401},
    {HWG_E_WRONG_AUDIENCE, "wrong_audience", "request is addressed to another gateway", 401},
    {HWG_E_CLOCK_SKEW, "clock_skew", "request time outside the allowed window", 401},
    {HWG_E_REPLAY, "replayed_nonce", "nonce already used within the window", 401},
    {HWG_E_UNKNOWN_OP, "unknown_operation", "operation unknown", 404},
    {HWG_E_FORBIDDEN, "forbidden", "operation not allowed for this role", 403},
    {HWG_E_BAD_ARGS, "bad_arguments", "arguments do not match the operation's schema", 400},
    {HWG_E_TOO_LARGE, "too_large", "message larger than the limit", 413},
    {HWG_E_ORIGIN, "origin_not_allowed", "browser origin not allowed", 403},
    {HWG_E_SESSION, "session_required", "operator session missing or expired", 401},
    {HWG_E_EXPIRED, "expired", "request waited past its time; it was not started", 503},
    {HWG_E_AUDIT, "audit_unavailable", "audit record could not be written", 503},
    {HWG_E_HSM, "hsm_unavailable", "HSM unavailable", 503},
    {HWG_E_STORE, "store_error", "state store error", 500},
    {HWG_E_INTERNAL, "internal", "internal error", 500},
    {HWG_E_NOMEM, "no_memory", "out of memory", 500},
    {HWG_E_IO, "io_error", "input/output error", 500},
    {HWG_E_CONFIG, "bad_config", "configuration invalid", 500},
    {HWG_E_NOT_FOUND, "not_found", "not found", 404},
    {HWG_E_EXISTS, "exists", "already exists", 409},
    {HWG_E_INVALID, "invalid", "invalid argument", 500},
    {HWG_E_TAMPERED, "tampered", "integrity check failed", 422},
    {HWG_E_BAD_RESPONSE, "bad_response", "response failed verification", 500},
    {HWG_E_UNAVAILABLE, "unavailable", "service unavailable, retry later", 503},
    {HWG_E_NO_READER, "no_reader", "no such card reader", 404},
    {HWG_E_NO_CARD, "no_card", "no card in the reader", 409},
    {HWG_E_CARD_REMOVED, "card_removed", "card removed during the operation", 409},
    {HWG_E_CARD_RESET, "card_reset", "card reset during the operation", 409},
    {HWG_E_PCSC_UNAVAILABLE, "pcsc_unavailable", "smart-card service unavailable", 503},
    {HWG_E_CARD_TIMEOUT, "card_timeout", "card did not answer in time", 504},
    {HWG_E_CARD_ERROR, "card_error", "card answered outside the protocol", 502},
    {HWG_E_CARD_RETIRED, "card_retired", "retired card type", 422},
    {HWG_E_CARD_UNSUPPORTED, "card_unsupported", "unsupported card", 422},
    {HWG_E_PIN_WRONG, "pin_wrong", "wrong PIN", 422},
    {HWG_E_PIN_LOCKED, "pin_locked", "PIN locked", 422},
    {HWG_E_PIN_FORMAT, "pin_format", "PIN does not follow its rules", 400},
    {HWG_E_CERT_UNTRUSTED, "cert_untrusted", "certificate not issued under a trusted root", 422},
    {HWG_E_CERT_EXPIRED, "cert_expired", "certificate expired or not yet valid", 422},
    {HWG_E_CERT_REVOKED, "cert_revoked", "certificate revoked", 422},
    {HWG_E_CRL_STALE, "crl_stale", "revocation list missing or out of date", 503},
    {HWG_E_CARD_SIGNATURE, "card_signature", "card signature does not verify", 422},
    {HWG_E_NO_TERMINAL, "no_terminal", "no such palm-vein terminal connected", 404},
    {HWG_E_TERMINAL_UNPAIRED, "terminal_unpaired", "terminal is not paired with this gateway", 409},
    {HWG_E_TERMINAL_REMOVED, "terminal_removed", "terminal removed during the operation", 409},
    {HWG_E_TERMINAL_BUSY, "terminal_busy", "terminal busy with another capture", 409},
    {HWG_E_TERMINAL_ERROR, "terminal_error", "terminal answered outside the protocol", 502},
    {HWG_E_CAPTURE_TIMEOUT, "capture_timeout", "no palm presented in time", 504},
    {HWG_E_CAPTURE_CANCELLED, "capture_cancelled", "capture cancelled", 409},
    {HWG_E_CAPTURE_QUALITY, "capture_quality", "capture quality too low; present the palm again",
     422},
    {HWG_E_LIVENESS, "liveness_failed", "capture failed the liveness check", 422},
    {HWG_E_DEVICE_SIGNATURE, "device_signature", "capture not signed by the paired terminal", 422},
    {HWG_E_NO_MATCH, "no_match", "palm does not match the operator", 422},
    {HWG_E_UNKNOWN_OPERATOR, "unknown_operator", "operator id not enrolled", 404},
    {HWG_E_OPERATOR_LOCKED, "operator_locked", "operator locked after failed verifications", 423},
    {HWG_E_OPERATOR_EXPIRED, "operator_expired", "operator no longer valid", 403},
    {HWG_E_TEMPLATE_TAMPERED, "template_tampered", "stored template fails its integrity check",
     422},
    {HWG_E_ENROLL_MISMATCH, "enroll_mismatch", "enrolment captures do not agree", 422},
    {HWG_E_DUPLICATE_PALM, "duplicate_palm", "palm already enrolled for another operator", 422},
    {HWG_E_PRINTER_ERROR, "printer_error", "printer answered outside the protocol", 502},
    {HWG_E_NO_PRINTER, "no_printer", "no such printer connected", 404},
    {HWG_E_PAPER_OUT, "paper_out", "printer out of paper; nothing was printed", 409},
    {HWG_E_PRINTER_JAM, "printer_jam", "paper jam during printing", 409},
    {HWG_E_PRINTER_OFFLINE, "printer_offline", "printer offline or its door open", 409},
    {HWG_E_PRINTER_REMOVED, "printer_removed", "printer unplugged during printing", 409},
    {HWG_E_PRINT_UNCONFIRMED, "print_unconfirmed",
     "printing not confirmed; held for a supervisor's decision", 409},
    {HWG_E_DOCUMENT_SIGNATURE, "document_signature", "document not signed by the registry", 422},
    {HWG_E_DOCUMENT_MISMATCH, "document_mismatch",
     "document fields are not those of the record version", 422},
    {HWG_E_DOCUMENT_INVALID, "document_invalid", "document field missing or malformed", 422},
    {HWG_E_MY_NUMBER_NOT_ALLOWED, "my_number_not_allowed",
     "My Number may not be shown on this certificate", 422},
    {HWG_E_RENDER_FAILED, "render_failed", "certificate could not be rendered", 500},
    {HWG_E_REQUEST_CONFLICT, "request_conflict", "request id already used for another document",
     409},
    {HWG_E_WRONG_STATE, "wrong_state", "issuance is not in the state this needs", 409},
    {HWG_E_CHECK_DIGIT, "check_digit", "identifier check digit is wrong", 422},
    {HWG_E_ALREADY_REGISTERED, "already_registered", "person is already registered", 409},
    {HWG_E_LOGIC_CHECK, "logic_check", "change refused by the register's logic checks", 422},
    {HWG_E_NOT_RESIDENT, "not_resident", "record is not a current resident's", 409},
    {HWG_E_SEARCH_TOO_FEW, "search_too_few",
     "search needs at least two items besides sex (name, furigana, address, birth date)", 400},
    {HWG_E_NOT_ENTITLED, "not_entitled", "this requester may not be issued this certificate", 403},
    {HWG_E_ISSUANCE_HELD, "issuance_held", "issuance for this record is held; ask at the counter",
     403},
    {HWG_E_RECORD_BLOCKED, "record_blocked",
     "record awaits reconciliation; nothing is issued from it", 409},
    {HWG_E_MOVEOUT_MISMATCH, "moveout_mismatch", "card facts differ from the move-out data", 422},
};

static const struct err_name *
err_lookup(int code)
{
	for (size_t i = 0; i < sizeof(err_names) / sizeof(err_names[0]); i++)
		if (err_names[i].code == code)
			return &err_names[i];
	return NULL;
}

const char *
hwg_err_code(int code)
{
	const struct err_name *e = err_lookup(code);
	return e ? e->name : "unknown";
}

const char *
hwg_err_text(int code)
{
	const struct err_name *e = err_lookup(code);
	return e ? e->text : "unknown error";
}

int
hwg_err_http_status(int code)
{
	const struct err_name *e = err_lookup(code);
	return e ? e->http : 500;
}

int
hwg_err_from_code(const char *name)
{
	if (name == NULL)
		return HWG_E_INTERNAL;
	for (size_t i = 0; i < sizeof(err_names) / sizeof(err_names[0]); i++)
		if (strcmp(err_names[i].name, name) == 0)
			return err_names[i].code;
	return HWG_E_INTERNAL;
}

int
hwg_error_set(struct hwg_error *err, int code, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL)
		return code;
	err->code = code;
	va_start(ap, fmt);
	vsnprintf(err->message, sizeof(err->message), fmt, ap);
	va_end(ap);
	return code;
}

int
hwg_error_vprefixed(struct hwg_error *err, int code, const char *what, const char *fmt, va_list ap)
{
	char msg[sizeof(err->message)];

	if (err == NULL)
		return code;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	return hwg_error_set(err, code, "%s: %s", what, msg);
}

int
hwg_error_prefixed(struct hwg_error *err, int code, const char *what, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	code = hwg_error_vprefixed(err, code, what, fmt, ap);
	va_end(ap);
	return code;
}

void
hwg_error_clear(struct hwg_error *err)
{
	if (err == NULL)
		return;
	err->code = 0;
	err->message[0] = '\0';
}
