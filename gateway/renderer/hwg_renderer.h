/*
 * hwg_renderer.h — the privileged process's side of the renderer.
 *
 * Certificates are laid out by hwgw-renderer, a process of its own under
 * a seccomp filter that holds no descriptor to the store, the keyholder
 * or a device (gateway/renderer/README.md): fonts and layout engines
 * parse complex data and stay out of the privileged process.  This
 * library starts it (fork + exec: the link on descriptor 3, 0 and 1 on
 * /dev/null, 2 the caller's, every other descriptor closed), sends it one
 * render request at a time and waits for the PDF within a timeout.  A
 * renderer that dies, does not answer in time or answers anything but a
 * reply is ended; the request fails with HWG_E_RENDER_FAILED (nothing
 * was rendered, so nothing can have been printed) and the next request
 * starts a new one, after the common back-off (common/hwg_backoff.h)
 * when they keep dying at once.  Links no layout library itself.
 *
 * Thread-safe: any thread may render; requests take their turn on the
 * link under a mutex.  hwg_renderer_start and _stop belong to one thread.
 */
#ifndef HWG_RENDERER_H
#define HWG_RENDERER_H

#include <stddef.h>
#include <stdint.h>

#include "hwg_err.h"

/* How long a starting renderer has to load its font, warm up and say it is ready. */
#define HWG_RENDERER_READY_MS 10000
/* One request's default time limit (a household copy of 60 people takes well under 1 s). */
#define HWG_RENDERER_TIMEOUT_MS 20000

struct hwg_renderer;

/* How one renderer ended, for the caller's log or audit (gateway.renderer_restart). */
struct hwg_renderer_end {
	long pid;
	int status;         /* as waitpid gave it; -1 if someone else reaped it */
	const char *why;    /* why it was ended ("" when it ended by itself) */
	const char *detail; /* "pid=N signal=S|exit=E[ why=...]" */
};
typedef void (*hwg_renderer_end_fn)(void *arg, const struct hwg_renderer_end *end);

struct hwg_renderer_config {
	const char *exe;            /* NULL: hwgw-renderer where hwg_helper_path finds it */
	const char *libexec_dir;    /* [gateway] libexec_dir; NULL or "": hwg_helper.h's places */
	const char *gaiji_table;    /* [cert] gaiji_table; NULL or "": no glyph table */
	int timeout_ms;             /* one request at most; 0: HWG_RENDERER_TIMEOUT_MS */
	hwg_renderer_end_fn on_end; /* NULL, or called (from the requesting thread) per end */
	void *on_end_arg;
};

/*
 * Start a renderer and wait (HWG_RENDERER_READY_MS at most) until it has
 * loaded its font and glyph table, rendered once and entered its filter.
 * Fails with the renderer's own error (HWG_E_CONFIG: the font or the
 * glyph table) or HWG_E_RENDER_FAILED; nothing is left running.
 */
int hwg_renderer_start(const struct hwg_renderer_config *cfg, struct hwg_renderer **out,
                       struct hwg_error *err);
/* Close the link, wait for the renderer to exit (SIGKILL after 5 s); accepts NULL. */
void hwg_renderer_stop(struct hwg_renderer *r);
/* The running renderer's pid, 0 when none (logs, tests). */
long hwg_renderer_pid(struct hwg_renderer *r);

struct hwg_renderer_pdf {
	uint8_t *pdf; /* malloc'd */
	size_t len;
	unsigned pages;
};
/* Free the PDF; accepts NULL and an empty one. */
void hwg_renderer_pdf_clear(struct hwg_renderer_pdf *p);

/*
 * Render request (len bytes: the CBOR map of hwg_rd_proto.h, which
 * hwg_rd_request_encode builds): 0 with *out, or HWG_E_RENDER_FAILED
 * with a message: the request refused (checked here first, then by the
 * renderer), the renderer not running and not startable, dead, silent
 * past the timeout or breaking the protocol (it is then ended).  *out is
 * untouched on failure.
 */
int hwg_renderer_render(struct hwg_renderer *r, const uint8_t *request, size_t len,
                        struct hwg_renderer_pdf *out, struct hwg_error *err);

#endif
