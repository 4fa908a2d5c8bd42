/*
 * hwg_certs.h — what the privileged process prints certificates with:
 * the renderer process and the USB printer driver, started and stopped
 * with the core, and the service (struct hwg_op_cert) cert.issue and
 * cert.reprint are given.  Its own module so that hwg_core stays the
 * request path; the devices' events reach the audit through the
 * caller's callback.
 */
#ifndef HWG_CERTS_H
#define HWG_CERTS_H

#include "hwg_config.h"
#include "hwg_err.h"
#include "hwg_ops.h"

struct hwg_certs;

/* A device event ("device.printer.attached", "gateway.renderer_restart", ...) and its detail. */
typedef void (*hwg_certs_event_fn)(void *arg, const char *event, const char *detail);

/*
 * Start the renderer ([cert] enabled) and the printer driver ([printer]
 * enabled); *out NULL when both are off.  registry_key looks a registry
 * client's key up (hwg_certdoc_registry_key over the client registry).
 * HWG_E_CONFIG when the renderer cannot start (its font, the glyph
 * table), an error of the USB stack otherwise; nothing left running.
 */
int hwg_certs_open(const struct hwg_config *cfg, hwg_certs_event_fn on_event, void *arg,
                   int (*registry_key)(void *, const char *, EVP_PKEY **, struct hwg_error *),
                   void *registry_key_arg, struct hwg_certs **out, struct hwg_error *err);
/* Stop both; accepts NULL. */
void hwg_certs_close(struct hwg_certs *c);
/* The service for the handlers' context; NULL when c is NULL or [cert] enabled = no. */
const struct hwg_op_cert *hwg_certs_service(struct hwg_certs *c);
/* hwg_op_ctx.printer_list over the driver (arg: the struct hwg_certs). */
void hwg_certs_printer_list(void *arg, struct hwg_op_printer *out, size_t max, size_t *n);
/* Whether a printer driver runs (device.list lists printers only then). */
int hwg_certs_printing(struct hwg_certs *c);

#endif
