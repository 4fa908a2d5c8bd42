/*
 * hwg_palm.h — what the gateway keeps for its palm-vein operations: the
 * terminal driver, the HSM key that seals templates, and (with [vein]
 * identify = yes) the 1:N gallery of active operators' templates, opened
 * once at start and kept current as operators are enrolled, confirmed and
 * revoked.  The gallery has its own lock: identification runs outside the
 * state lock while a capture's result is matched.
 */
#ifndef HWG_VEINS_H
#define HWG_VEINS_H

#include <stddef.h>
#include <stdint.h>

#include "hwg_config.h"
#include "hwg_err.h"
#include "hwg_match.h"
#include "hwg_vein.h"

struct hwg_palm;
struct hwg_store;

/* Open a sealed template for operator_id (the holder of the template key does it). */
typedef int (*hwg_template_open_fn)(void *arg, const char *operator_id, const uint8_t *blob,
                                    size_t blob_len, int8_t tmpl[HWG_MATCH_DIM],
                                    struct hwg_error *err);

/* Active operators a gallery can hold (identify = yes). */
#define HWG_VEINS_GALLERY_MAX 16384

/*
 * Prepare what cfg's [vein] section asks for: the gallery (every active
 * operator's template in store opened with open_template, which holds the
 * template key; a template that does not open stops the start, naming the
 * operator).  With [vein] enabled = no nothing is prepared and every
 * accessor below says so.  open_template and its arg outlive the service;
 * store is used only during this call.
 */
int hwg_palm_open(const struct hwg_config *cfg, hwg_template_open_fn open_template, void *open_arg,
                  struct hwg_store *store, struct hwg_palm **out, struct hwg_error *err);
/*
 * Start the terminal driver (nothing when disabled); its events go to
 * on_event from its own thread, possibly before this returns, so the
 * caller must not hold a lock on_event takes.
 */
int hwg_palm_start(struct hwg_palm *v, const struct hwg_config *cfg, hwg_vein_event_fn on_event,
                   void *arg, struct hwg_error *err);
/* Stop the driver first (its thread sends events), then wipe the gallery; accepts NULL. */
void hwg_palm_close(struct hwg_palm *v);

/* NULL when [vein] enabled = no. */
struct hwg_vein *hwg_palm_driver(struct hwg_palm *v);
/* 1 when there is a gallery ([vein] enabled and identify = yes). */
int hwg_palm_has_gallery(const struct hwg_palm *v);
/* Templates in the gallery (0 without one). */
size_t hwg_palm_gallery_count(struct hwg_palm *v);

/*
 * The best gallery match at or above threshold, skipping exclude (may be
 * NULL): 0 with *hit, HWG_E_NO_MATCH, or HWG_E_UNAVAILABLE without a gallery.
 */
int hwg_palm_identify(struct hwg_palm *v, const int8_t probe[HWG_MATCH_DIM], double threshold,
                      const char *exclude, struct hwg_match_hit *hit);
/* Add or replace id's template (nothing without a gallery); HWG_E_UNAVAILABLE when full. */
int hwg_palm_gallery_put(struct hwg_palm *v, const char *id, const int8_t tmpl[HWG_MATCH_DIM],
                         struct hwg_error *err);
/*
 * Open id's sealed template and put it in the gallery (nothing without
 * one): for an operator that has just become active.
 */
int hwg_palm_gallery_put_sealed(struct hwg_palm *v, const char *id, const uint8_t *blob,
                                size_t blob_len, struct hwg_error *err);
/* Forget id's template (wiped); nothing if absent or without a gallery. */
void hwg_palm_gallery_remove(struct hwg_palm *v, const char *id);

#endif
