/*
 * counter_out.c — how a step reports: progress lines and answers in
 * words for the clerk, or one JSON object for a script (--json); and a
 * failure as what happened, which device, and what to do now.  Nothing
 * printed here ever holds a PIN or a session token: the steps never pass
 * one in.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "counter.h"

void
ctr_progress(const struct ctr *c, const char *fmt, ...)
{
	va_list ap;

	if (c->json || c->quiet)
		return;
	fputs("... ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

void
ctr_say(const struct ctr *c, const char *fmt, ...)
{
	va_list ap;

	if (c->json)
		return;
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

void
ctr_set(struct ctr *c, const char *key, json_t *value)
{
	if (c->result != NULL && value != NULL)
		json_object_set_new(c->result, key, value);
	else if (value != NULL)
		json_decref(value);
}

/* A gateway message for a terminal: control characters shown as '?'. */
static void
print_clean(FILE *f, const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++)
		fputc(*p < 0x20 || *p == 0x7f ? '?' : *p, f);
}

int
ctr_failed(struct ctr *c, int exit, const struct ctr_fail *f)
{
	json_t *e;

	if (c->json) {
		e = json_pack("{s:s, s:s, s:s}", "code", f->code, "message", f->message, "device",
		              f->device ? f->device : "");
		if (e != NULL && f->action != NULL)
			json_object_set_new(e, "action", json_string(f->action));
		if (e != NULL && f->tries >= 0)
			json_object_set_new(e, "tries", json_integer(f->tries));
		ctr_set(c, "error", e);
		return exit;
	}
	fputs("hwgw-counter: ", stderr);
	if (f->device != NULL && f->device[0] != '\0')
		fprintf(stderr, "%s: ", f->device);
	print_clean(stderr, f->message);
	if (f->tries >= 0)
		fprintf(stderr, " (PIN tries left: %d)", f->tries);
	fprintf(stderr, " [%s]\n", f->code);
	if (f->action != NULL)
		fprintf(stderr, "  what to do: %s\n", f->action);
	return exit;
}

int
ctr_error(struct ctr *c, const char *device, const struct hwg_error *err, const char *action)
{
	struct ctr_fail f = {.code = hwg_err_code(err->code),
	                     .device = device,
	                     .message = err->message,
	                     .action = action,
	                     .tries = -1};

	return ctr_failed(c,
	                  err->code == HWG_E_CONFIG || err->code == HWG_E_INVALID ||
	                          err->code == HWG_E_IO || err->code == HWG_E_NOMEM
	                      ? CTR_EXIT_ERROR
	                      : CTR_EXIT_REFUSED,
	                  &f);
}
