/*
 * counter_words.c — the gateway's refusals in the words a clerk needs:
 * which device it concerns (the card reader, the palm terminal, the
 * printer, the gateway) and what to do now.  The gateway's own message
 * goes along; the action is ours, one per code, in a table.
 */
#include <stdio.h>
#include <string.h>

#include "counter.h"

enum dev { DEV_GATEWAY, DEV_READER, DEV_TERMINAL, DEV_PRINTER, DEV_SESSION };

struct words {
	const char *code;
	enum dev dev;
	const char *action;
};

static const struct words table[] = {
    {"no_reader", DEV_READER, "check the card reader's cable and the [counter] reader name"},
    {"no_card", DEV_READER, "ask the resident to insert the card, then run this step again"},
    {"card_removed", DEV_READER,
     "the card was pulled out: ask the resident to insert it again and run this step again"},
    {"card_reset", DEV_READER, "run this step again"},
    {"pcsc_unavailable", DEV_READER,
     "the card service (pcscd) is not running: call the system administrator"},
    {"card_timeout", DEV_READER, "the reader is busy: wait a moment and run this step again"},
    {"card_error", DEV_READER,
     "take the card out, insert it again and retry; if it repeats "
     "the card may be damaged"},
    {"card_retired", DEV_READER,
     "this is a 住基カード (Juki card), which is no longer in use: ask for the My Number "
     "card (個人番号カード) or another identity document"},
    {"card_unsupported", DEV_READER, "this is not a My Number card: ask for the My Number card"},
    {"pin_wrong", DEV_READER,
     "ask the resident to enter the PIN again; when no tries are left the PIN locks and "
     "must be reset at the counter"},
    {"pin_locked", DEV_READER,
     "the PIN is locked (no VERIFY was sent): the resident must have it reset at the "
     "counter with an identity document"},
    {"pin_format", DEV_READER, "the card-info PIN is 4 digits: ask the resident to enter it again"},
    {"cert_untrusted", DEV_READER, "the card's certificate is not from J-LIS: do not accept it"},
    {"cert_expired", DEV_READER, "the card's certificate has expired: the resident must renew it"},
    {"cert_revoked", DEV_READER, "the card's certificate is revoked: do not accept the card"},
    {"crl_stale", DEV_GATEWAY, "the revocation list is out of date: call the system administrator"},
    {"tampered", DEV_READER,
     "the card's data does not match its integrity record: keep the "
     "card aside and call the supervisor"},
    {"card_signature", DEV_READER, "the card's signature does not verify: call the supervisor"},
    {"no_terminal", DEV_TERMINAL, "check the palm terminal's cable and the [counter] terminal"},
    {"terminal_unpaired", DEV_TERMINAL, "the terminal must be paired by an administrator"},
    {"terminal_removed", DEV_TERMINAL, "plug the terminal in again and log in again"},
    {"terminal_busy", DEV_TERMINAL, "wait for the other capture to end and try again"},
    {"terminal_error", DEV_TERMINAL, "unplug the terminal, plug it in again and retry"},
    {"capture_timeout", DEV_TERMINAL, "hold the palm over the terminal when asked, and retry"},
    {"capture_cancelled", DEV_TERMINAL, "the capture was cancelled: log in again"},
    {"capture_quality", DEV_TERMINAL, "hold the palm flat and still over the terminal, and retry"},
    {"liveness_failed", DEV_TERMINAL, "present your own hand, and retry"},
    {"device_signature", DEV_TERMINAL,
     "the terminal's capture is not trusted: stop and call the system administrator"},
    {"no_match", DEV_TERMINAL, "the palm did not match this operator: retry with your own palm"},
    {"unknown_operator", DEV_TERMINAL, "check the operator id"},
    {"operator_locked", DEV_TERMINAL, "too many failures: wait, or ask an administrator"},
    {"operator_expired", DEV_TERMINAL, "the operator's rights have ended: ask an administrator"},
    {"session_required", DEV_SESSION,
     "no operator is logged in at this counter (or the session ended): run `hwgw-counter "
     "login` first"},
    {"forbidden", DEV_GATEWAY, "this operator or station may not do this: ask the supervisor"},
    {"no_printer", DEV_PRINTER,
     "connect the certificate printer (or check [counter] printer), "
     "then issue again: nothing was printed"},
    {"paper_out", DEV_PRINTER,
     "load paper into the printer, then issue again: nothing was "
     "printed"},
    {"printer_offline", DEV_PRINTER,
     "put the printer online and close its cover, then run "
     "`hwgw-counter status`"},
    {"printer_jam", DEV_PRINTER,
     "clear the jam; the certificate is held for a supervisor: "
     "run `hwgw-counter supervise`"},
    {"printer_removed", DEV_PRINTER,
     "plug the printer in again; the certificate is held for a "
     "supervisor: run `hwgw-counter supervise`"},
    {"print_unconfirmed", DEV_PRINTER,
     "do not issue again: a supervisor checks the printer's output and records what "
     "came out (`hwgw-counter supervise`)"},
    {"printer_error", DEV_PRINTER, "check the printer, then run `hwgw-counter status`"},
    {"render_failed", DEV_GATEWAY,
     "nothing was printed: issue again; if it repeats call the "
     "system administrator"},
    {"document_signature", DEV_GATEWAY,
     "the register's key is not the one the gateway knows: call the system administrator"},
    {"document_mismatch", DEV_GATEWAY,
     "the record changed or does not match: identify the resident again and issue again"},
    {"document_invalid", DEV_GATEWAY,
     "the certificate's content was refused: call the "
     "system administrator"},
    {"my_number_not_allowed", DEV_GATEWAY, "issue it without the My Number"},
    {"request_conflict", DEV_GATEWAY, "run `hwgw-counter status` and follow what it says"},
    {"unavailable", DEV_GATEWAY, "the gateway cannot do this now: wait a moment and retry"},
    {"hsm_unavailable", DEV_GATEWAY,
     "the gateway's key store is unavailable: call the system "
     "administrator"},
    {"audit_unavailable", DEV_GATEWAY,
     "nothing was done (the audit could not be written): call the system administrator"},
};

static const struct words *
find(const char *code)
{
	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++)
		if (strcmp(table[i].code, code) == 0)
			return &table[i];
	return NULL;
}

static const char *
device_name(const struct ctr *c, enum dev d, char *buf, size_t len)
{
	switch (d) {
	case DEV_READER:
		snprintf(buf, len, "card reader \"%s\"", c->conf.reader);
		break;
	case DEV_TERMINAL:
		snprintf(buf, len, "palm terminal %s", c->conf.terminal);
		break;
	case DEV_PRINTER:
		snprintf(buf, len, "printer%s%s", c->conf.printer ? " " : "",
		         c->conf.printer ? c->conf.printer : "");
		break;
	case DEV_SESSION:
		snprintf(buf, len, "operator session");
		break;
	default:
		snprintf(buf, len, "gateway %s", c->conf.gateway_id);
	}
	return buf;
}

int
ctr_gw_refused(struct ctr *c, const char *op, const struct ctr_answer *a)
{
	const struct words *w = find(a->code);
	char dev[160], msg[400];
	struct ctr_fail f = {.code = a->code, .tries = a->tries};

	f.device = device_name(c, w ? w->dev : DEV_GATEWAY, dev, sizeof(dev));
	snprintf(msg, sizeof(msg), "%s refused: %s", op, a->message);
	f.message = msg;
	f.action = w ? w->action : "note the message and call the supervisor";
	return ctr_failed(c, CTR_EXIT_REFUSED, &f);
}

int
ctr_gw_unreachable(struct ctr *c, const char *op, const struct hwg_error *err)
{
	char dev[160], msg[400];
	struct ctr_fail f = {.code = "gateway_unreachable", .tries = -1};

	snprintf(msg, sizeof(msg), "%s: %s", op, err->message);
	f.message = msg;
	f.device = device_name(c, DEV_GATEWAY, dev, sizeof(dev));
	f.action =
	    err->code == HWG_E_BAD_RESPONSE
	        ? "the answer was not signed by this gateway: stop and call the system "
	          "administrator"
	        : "check that the gateway (hwgwd) runs and [client] socket names its socket, "
	          "then retry";
	if (err->code == HWG_E_SESSION) {
		f.code = "session_required";
		f.device = "operator session";
		f.action = "run `hwgw-counter login` first";
		return ctr_failed(c, CTR_EXIT_REFUSED, &f);
	}
	return ctr_failed(c, CTR_EXIT_ERROR, &f);
}
