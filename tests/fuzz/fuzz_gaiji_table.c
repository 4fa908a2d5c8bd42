/*
 * fuzz_gaiji_table.c — libFuzzer target for the glyph table
 * (gateway/renderer/hwg_gaiji.c), which the renderer reads from the
 * file [cert] gaiji_table names before its filter.  Nothing may crash;
 * an accepted table names only private-use code points, each a bitmap or
 * one substitute character that is neither private-use nor a control,
 * and counts what it holds.
 */
#include <stdlib.h>
#include <string.h>

#include "hwg_gaiji.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hwg_gaiji *g = NULL;
	struct hwg_error err = {0};
	uint32_t first_bitmap, first_substitute, cp;
	size_t count, seen = 0;

	if (hwg_gaiji_parse((const char *)data, size, &g, &err) != 0) {
		if (err.code != HWG_E_CONFIG && err.code != HWG_E_NOMEM)
			abort();
		return 0;
	}
	count = hwg_gaiji_count(g, &first_bitmap, &first_substitute);
	for (cp = 0; cp <= 0x10000; cp++) {
		const struct hwg_gaiji_entry *e = hwg_gaiji_lookup(g, cp);

		if (e == NULL)
			continue;
		if (!hwg_gaiji_private(cp))
			abort();
		seen++;
		if (e->kind == HWG_GAIJI_SUBSTITUTE &&
		    (hwg_gaiji_private(e->substitute_cp) || e->substitute_cp < 0x20 ||
		     strlen(e->substitute) == 0 || strlen(e->substitute) > 4))
			abort();
		if (e->kind != HWG_GAIJI_SUBSTITUTE && e->kind != HWG_GAIJI_BITMAP)
			abort();
	}
	if (seen != count || (count > 0 && first_bitmap == 0 && first_substitute == 0))
		abort();
	hwg_gaiji_free(g);
	return 0;
}
