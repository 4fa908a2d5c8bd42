/*
 * hwg_palm.c — the gateway's palm-vein service (see hwg_palm.h).
 */
#include "hwg_palm.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "hwg_operators.h"
#include "hwg_secret.h"
#include "hwg_store.h"

_Static_assert(HWG_MAX_USB_IDS == HWG_VEIN_MAX_IDS, "[vein] usb_ids and the driver agree");
_Static_assert(HWG_TERMINAL_ID_MAX == HWG_VEIN_STR_MAX, "a terminal serial fits the store");
_Static_assert(HWG_TERMINAL_KEY_LEN == HWG_VEIN_PUBKEY_LEN, "a device key fits the store");
_Static_assert(HWG_VEIN_TEMPLATE_LEN == HWG_MATCH_DIM, "the terminal's template is the matcher's");
_Static_assert(HWG_OPERATOR_ID_MAX == HWG_MATCH_ID_MAX, "operator ids fit the gallery");

struct hwg_palm {
	hwg_template_open_fn open_template; /* the template key's holder (the keyholder) */
	void *open_arg;
	struct hwg_vein *driver;
	pthread_mutex_t gallery_lock;
	struct hwg_gallery *gallery; /* NULL unless identify = yes */
};

struct load_ctx {
	struct hwg_palm *v;
	struct hwg_error *err;
	int rc;
};

/* Each active operator's template into the gallery; a template that does not open stops it. */
static int
load_one(void *arg, const struct hwg_operator_rec *o)
{
	struct load_ctx *lc = arg;

	if (o->state != HWG_OPERATOR_ACTIVE)
		return 0;
	lc->rc = hwg_palm_gallery_put_sealed(lc->v, o->id, o->tmpl, o->tmpl_len, lc->err);
	if (lc->rc != 0) {
		char msg[sizeof(lc->err->message)];

		memcpy(msg, lc->err->message, sizeof(msg));
		hwg_error_set(lc->err, lc->rc, "operator \"%s\": %s", o->id, msg);
	}
	return lc->rc;
}

static int
load_gallery(struct hwg_palm *v, struct hwg_store *store, struct hwg_error *err)
{
	struct load_ctx lc = {v, err, 0};
	int rc;

	if ((v->gallery = hwg_gallery_new(HWG_VEINS_GALLERY_MAX)) == NULL)
		return hwg_error_set(err, HWG_E_NOMEM, "out of memory for the 1:N gallery");
	rc = hwg_operator_each(store, load_one, &lc, err);
	if (rc == 0 && lc.rc != 0)
		rc = lc.rc;
	if (rc != 0) {
		char msg[sizeof(err->message)];

		memcpy(msg, err->message, sizeof(msg));
		hwg_error_set(err, rc, "[vein] identify = yes: loading the gallery: %s", msg);
	}
	return rc;
}

int
hwg_palm_open(const struct hwg_config *cfg, hwg_template_open_fn open_template, void *open_arg,
              struct hwg_store *store, struct hwg_palm **out, struct hwg_error *err)
{
	struct hwg_palm *v;
	int rc = 0;

	*out = NULL;
	if ((v = calloc(1, sizeof(*v))) == NULL)
		return hwg_error_set(err, HWG_E_NOMEM, "out of memory");
	pthread_mutex_init(&v->gallery_lock, NULL);
	v->open_template = open_template;
	v->open_arg = open_arg;
	if (cfg->vein_enabled && cfg->vein_identify)
		rc = load_gallery(v, store, err);
	if (rc != 0) {
		hwg_palm_close(v);
		return rc;
	}
	*out = v;
	return 0;
}

int
hwg_palm_start(struct hwg_palm *v, const struct hwg_config *cfg, hwg_vein_event_fn on_event,
               void *arg, struct hwg_error *err)
{
	struct hwg_vein_config vc;

	if (!cfg->vein_enabled || v->driver != NULL)
		return 0;
	memset(&vc, 0, sizeof(vc));
	memcpy(vc.ids, cfg->vein_usb_ids, sizeof(vc.ids));
	vc.n_ids = cfg->vein_n_usb_ids;
	vc.scan_interval_ms = cfg->vein_scan_interval_ms;
	vc.command_timeout_ms = cfg->vein_command_timeout_ms;
	return hwg_vein_open(&vc, on_event, arg, &v->driver, err);
}

void
hwg_palm_close(struct hwg_palm *v)
{
	if (v == NULL)
		return;
	hwg_vein_close(v->driver);
	hwg_gallery_free(v->gallery);
	pthread_mutex_destroy(&v->gallery_lock);
	free(v);
}

struct hwg_vein *
hwg_palm_driver(struct hwg_palm *v)
{
	return v->driver;
}

int
hwg_palm_has_gallery(const struct hwg_palm *v)
{
	return v->gallery != NULL;
}

size_t
hwg_palm_gallery_count(struct hwg_palm *v)
{
	size_t n;

	pthread_mutex_lock(&v->gallery_lock);
	n = v->gallery != NULL ? hwg_gallery_count(v->gallery) : 0;
	pthread_mutex_unlock(&v->gallery_lock);
	return n;
}

int
hwg_palm_identify(struct hwg_palm *v, const int8_t probe[HWG_MATCH_DIM], double threshold,
                  const char *exclude, struct hwg_match_hit *hit)
{
	int rc;

	if (v->gallery == NULL)
		return HWG_E_UNAVAILABLE;
	pthread_mutex_lock(&v->gallery_lock);
	rc = hwg_gallery_identify(v->gallery, probe, threshold, exclude, hit);
	pthread_mutex_unlock(&v->gallery_lock);
	return rc;
}

int
hwg_palm_gallery_put(struct hwg_palm *v, const char *id, const int8_t tmpl[HWG_MATCH_DIM],
                     struct hwg_error *err)
{
	int rc;

	if (v->gallery == NULL)
		return 0;
	pthread_mutex_lock(&v->gallery_lock);
	rc = hwg_gallery_put(v->gallery, id, tmpl);
	pthread_mutex_unlock(&v->gallery_lock);
	if (rc == HWG_E_TOO_LARGE)
		return hwg_error_set(
		    err, HWG_E_UNAVAILABLE,
		    "the 1:N gallery is full (%d active operators); revoke some or "
		    "set [vein] identify = no",
		    HWG_VEINS_GALLERY_MAX);
	if (rc != 0)
		return hwg_error_set(err, rc, "operator \"%s\" cannot join the gallery", id);
	return 0;
}

int
hwg_palm_gallery_put_sealed(struct hwg_palm *v, const char *id, const uint8_t *blob,
                            size_t blob_len, struct hwg_error *err)
{
	int8_t tmpl[HWG_MATCH_DIM];
	int rc;

	if (v->gallery == NULL)
		return 0;
	if ((rc = v->open_template(v->open_arg, id, blob, blob_len, tmpl, err)) != 0)
		return rc;
	rc = hwg_palm_gallery_put(v, id, tmpl, err);
	hwg_wipe(tmpl, sizeof(tmpl));
	return rc;
}

void
hwg_palm_gallery_remove(struct hwg_palm *v, const char *id)
{
	if (v->gallery == NULL)
		return;
	pthread_mutex_lock(&v->gallery_lock);
	(void)hwg_gallery_remove(v->gallery, id);
	pthread_mutex_unlock(&v->gallery_lock);
}
