/*
 * hwg_rd_sandbox.h — the renderer's seccomp filter.  Entered once the
 * font, the glyph table and a first whole render (hwg_render_warm) have
 * made fontconfig, pango, harfbuzz and cairo read everything they read
 * from files: from then on the renderer reads requests from its link,
 * computes, and writes replies, and may open nothing
 * (gateway/renderer/README.md, "The sandbox").  Anything else kills it;
 * the privileged process answers render_failed and starts another.
 */
#ifndef HWG_RD_SANDBOX_H
#define HWG_RD_SANDBOX_H

#include "hwg_err.h"

/* Load the filter; HWG_E_INTERNAL if it cannot be. */
int hwg_rd_sandbox_enter(struct hwg_error *err);

#endif
