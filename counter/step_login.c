/*
 * step_login.c — steps 1 and 6 of a visit: the clerk logs in by palm
 * (operator.verify on the counter's terminal; the session token goes to
 * the state directory, mode 0600, and is never shown) and logs out
 * (operator.logout: the session ends at the gateway too, and the
 * station forgets it and the visit).
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "counter.h"
#include "hwg_cbor.h"
#include "hwg_secret.h"
#include "hwgw.h"

/* The token as hex into the state file "session"; the operator's id and role into "operator". */
static int
keep_session(struct ctr *c, const cbor_item_t *result, struct hwg_error *err)
{
	const uint8_t *tok;
	size_t len;
	char hex[2 * HWGW_SESSION_MAX + 2], op[160], id[80], role[24];
	int rc;

	if (hwg_cbor_bytes(hwg_cbor_map_get(result, "session", NULL), &tok, &len) != 0 ||
	    len < HWGW_SESSION_MIN || len > HWGW_SESSION_MAX)
		return hwg_error_set(err, HWG_E_BAD_RESPONSE, "operator.verify gave no session");
	for (size_t i = 0; i < len; i++)
		snprintf(hex + 2 * i, 3, "%02x", tok[i]);
	hex[2 * len] = '\n';
	rc = ctr_state_write(c, "session", hex, 2 * len + 1, err);
	hwg_wipe(hex, sizeof(hex));
	if (rc != 0)
		return rc;
	snprintf(op, sizeof(op), "operator_id=%s\nrole=%s\n",
	         ctr_text(result, "operator_id", id, sizeof(id)),
	         ctr_text(result, "role", role, sizeof(role)));
	return ctr_state_write(c, "operator", op, strlen(op), err);
}

static void
show_login(struct ctr *c, const cbor_item_t *result)
{
	char id[80], role[24], when[32] = "?";
	int64_t exp = ctr_uint(result, "expires_ms"), idle = ctr_uint(result, "idle_s");
	time_t t = (time_t)(exp / 1000);
	struct tm tm;

	ctr_text(result, "operator_id", id, sizeof(id));
	ctr_text(result, "role", role, sizeof(role));
	if (exp > 0 && localtime_r(&t, &tm) != NULL)
		strftime(when, sizeof(when), "%Y-%m-%d %H:%M", &tm);
	ctr_say(c, "logged in: %s (role %s) at palm terminal %s", id, role, c->conf.terminal);
	ctr_say(c, "the session ends at %s, or after %lld minutes without use", when,
	        (long long)(idle / 60));
	ctr_set(c, "operator_id", json_string(id));
	ctr_set(c, "role", json_string(role));
	ctr_set(c, "expires_ms", json_integer(exp));
	ctr_set(c, "idle_s", json_integer(idle));
}

int
ctr_step_login(struct ctr *c, int argc, char **argv)
{
	static const struct option opts[] = {{"operator", required_argument, NULL, 'o'},
	                                     {NULL, 0, NULL, 0}};
	const char *op = c->conf.operator_id;
	struct hwg_error err = {0};
	struct ctr_answer a = {0};
	cbor_item_t *args = cbor_new_definite_map(2);
	struct ctr_call call = {.op = "operator.verify", .args = args};
	int ch, rc;

	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1)
		if (ch == 'o')
			op = optarg;
		else
			return CTR_EXIT_ERROR;
	if (args == NULL || hwg_cbor_map_put_text(args, "terminal", c->conf.terminal) != 0 ||
	    (op != NULL && hwg_cbor_map_put_text(args, "operator_id", op) != 0))
		return CTR_EXIT_ERROR;
	ctr_progress(c, "hold your palm over palm terminal %s", c->conf.terminal);
	if ((rc = ctr_gw_call(c, &call, &a, &err)) != 0)
		rc = ctr_gw_unreachable(c, "operator.verify", &err);
	else if (a.result == NULL)
		rc = ctr_gw_refused(c, "operator.verify", &a);
	else if (keep_session(c, a.result, &err) != 0)
		rc = ctr_error(c, "state directory", &err,
		               "check [counter] state_dir and log in again");
	else
		show_login(c, a.result);
	ctr_answer_clear(&a);
	cbor_decref(&args);
	return rc;
}

/* The station forgets the session, the operator and the visit. */
static void
forget(struct ctr *c)
{
	struct hwg_error err = {0};

	ctr_state_remove(c, "session", &err);
	ctr_state_remove(c, "operator", &err);
	ctr_state_remove(c, "visit", &err);
}

int
ctr_step_logout(struct ctr *c, int argc, char **argv)
{
	struct hwg_error err = {0};
	struct ctr_answer a = {0};
	struct ctr_call call = {.op = "operator.logout", .with_session = 1};
	char id[80];
	int rc = 0;

	(void)argc;
	(void)argv;
	if (ctr_gw_call(c, &call, &a, &err) != 0) {
		if (err.code == HWG_E_SESSION) {
			ctr_say(c, "no operator was logged in at this counter");
			ctr_set(c, "state", json_string("logged_out"));
			return 0;
		}
		return ctr_gw_unreachable(c, "operator.logout", &err);
	}
	if (a.result == NULL && strcmp(a.code, "session_required") != 0) {
		rc = ctr_gw_refused(c, "operator.logout", &a);
	} else {
		forget(c);
		if (a.result != NULL)
			ctr_say(c, "logged out: %s; the session has ended at the gateway too",
			        ctr_text(a.result, "operator_id", id, sizeof(id)));
		else
			ctr_say(c, "the session had already ended at the gateway; this counter "
			           "forgot it too");
		ctr_set(c, "state", json_string("logged_out"));
	}
	ctr_answer_clear(&a);
	return rc;
}
