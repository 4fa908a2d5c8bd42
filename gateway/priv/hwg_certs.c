/*
 * hwg_certs.c — see hwg_certs.h.
 */
#include "hwg_certs.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hwg_log.h"
#include "hwg_printer.h"
#include "hwg_renderer.h"

struct hwg_certs {
	struct hwg_op_cert service;
	struct hwg_renderer *renderer;
	struct hwg_printer *printers;
	hwg_certs_event_fn on_event;
	void *arg;
};

/* A renderer ended (it died, stalled or broke its protocol): audited, restarted on demand. */
static void
renderer_ended(void *arg, const struct hwg_renderer_end *end)
{
	struct hwg_certs *c = arg;

	hwg_log(HWG_LOG_WARN, "renderer.ended", "%s", end->detail);
	c->on_event(c->arg, "gateway.renderer_restart", end->detail);
}

static void
printer_event(void *arg, const char *event, const char *printer)
{
	struct hwg_certs *c = arg;
	char op[64], detail[96];

	snprintf(op, sizeof(op), "device.%s", event);
	snprintf(detail, sizeof(detail), "printer=%s", printer);
	hwg_log(HWG_LOG_INFO, op, "printer=\"%s\"", printer);
	c->on_event(c->arg, op, detail);
}

static int
open_renderer(struct hwg_certs *c, const struct hwg_config *cfg, struct hwg_error *err)
{
	struct hwg_renderer_config rc = {.libexec_dir = cfg->libexec_dir,
	                                 .gaiji_table = cfg->cert_gaiji_table,
	                                 .timeout_ms = cfg->cert_render_timeout_ms,
	                                 .on_end = renderer_ended,
	                                 .on_end_arg = c};
	int code;

	if ((code = hwg_renderer_start(&rc, &c->renderer, err)) != 0)
		return code;
	hwg_log(HWG_LOG_INFO, "renderer.ready", "pid=%ld", hwg_renderer_pid(c->renderer));
	return 0;
}

static int
open_printers(struct hwg_certs *c, const struct hwg_config *cfg, struct hwg_error *err)
{
	struct hwg_printer_config pc = {.scan_interval_ms = cfg->printer_scan_interval_ms,
	                                .command_timeout_ms = cfg->printer_command_timeout_ms};

	return hwg_printer_open(&pc, printer_event, c, &c->printers, err);
}

int
hwg_certs_open(const struct hwg_config *cfg, hwg_certs_event_fn on_event, void *arg,
               int (*registry_key)(void *, const char *, EVP_PKEY **, struct hwg_error *),
               void *registry_key_arg, struct hwg_certs **out, struct hwg_error *err)
{
	struct hwg_certs *c;
	int rc = 0;

	*out = NULL;
	if (!cfg->cert_enabled && !cfg->printer_enabled)
		return 0;
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return hwg_error_set(err, HWG_E_NOMEM, "out of memory");
	c->on_event = on_event;
	c->arg = arg;
	if (cfg->cert_enabled)
		rc = open_renderer(c, cfg, err);
	if (rc == 0 && cfg->printer_enabled)
		rc = open_printers(c, cfg, err);
	if (rc != 0) {
		hwg_certs_close(c);
		return rc;
	}
	c->service = (struct hwg_op_cert){.renderer = c->renderer,
	                                  .printers = c->printers,
	                                  .registry_key = registry_key,
	                                  .registry_key_arg = registry_key_arg,
	                                  .city = cfg->cert_city,
	                                  .mayor = cfg->cert_mayor,
	                                  .job_timeout_ms = cfg->cert_job_timeout_ms};
	*out = c;
	return 0;
}

void
hwg_certs_close(struct hwg_certs *c)
{
	if (c == NULL)
		return;
	hwg_printer_close(c->printers);
	hwg_renderer_stop(c->renderer);
	free(c);
}

const struct hwg_op_cert *
hwg_certs_service(struct hwg_certs *c)
{
	return c != NULL && c->renderer != NULL ? &c->service : NULL;
}

int
hwg_certs_printing(struct hwg_certs *c)
{
	return c != NULL && c->printers != NULL;
}

void
hwg_certs_printer_list(void *arg, struct hwg_op_printer *out, size_t max, size_t *n)
{
	struct hwg_certs *c = arg;
	struct hwg_printer_info info[2 * HWG_PRINTER_MAX];
	size_t found = 0;

	*n = 0;
	if (hwg_printer_list(c->printers, info, 2 * HWG_PRINTER_MAX, &found) != 0)
		return;
	for (size_t i = 0; i < found && *n < max; i++) {
		if (!info[i].present)
			continue; /* unplugged: not connected now */
		_Static_assert(sizeof(out->serial) == sizeof(info->serial) &&
		                   sizeof(out->model) == sizeof(info->model),
		               "the driver's and device.list's sizes agree");
		memcpy(out[*n].serial, info[i].serial, sizeof(out->serial));
		memcpy(out[*n].model, info[i].model, sizeof(out->model));
		out[*n].state = info[i].state;
		(*n)++;
	}
}
