/*
 * counter_util.c — small things every step uses: a card request's
 * arguments, reading a verified result's values, and the register's
 * connection.
 */
#include <stdio.h>
#include <string.h>

#include "counter.h"
#include "hwg_cbor.h"
#include "hwg_secret.h"
#include "hwgw_registry.h"

cbor_item_t *
ctr_card_args(const struct ctr *c, const struct hwg_secret *pin)
{
	cbor_item_t *m = cbor_new_definite_map(2), *v;

	if (m == NULL || hwg_cbor_map_put_text(m, "reader", c->conf.reader) != 0)
		goto fail;
	if (pin != NULL) {
		/* the PIN's bytes as they are (not NUL-terminated copies left behind) */
		if ((v = cbor_build_stringn(pin->data, pin->len)) == NULL)
			goto fail;
		if (hwg_cbor_map_put_item(m, "pin", v) != 0) /* takes v, also on failure */
			goto fail;
	}
	return m;
fail:
	if (m != NULL)
		cbor_decref(&m);
	return NULL;
}

const char *
ctr_text(const cbor_item_t *map, const char *key, char *buf, size_t len)
{
	const cbor_item_t *v = map ? hwg_cbor_map_get(map, key, NULL) : NULL;

	buf[0] = '\0';
	if (v != NULL && hwg_cbor_text_copy(v, buf, len) != 0)
		buf[0] = '\0';
	return buf;
}

int64_t
ctr_uint(const cbor_item_t *map, const char *key)
{
	const cbor_item_t *v = map ? hwg_cbor_map_get(map, key, NULL) : NULL;
	uint64_t u;

	if (v == NULL || hwg_cbor_uint(v, &u) != 0 || u > INT64_MAX)
		return -1;
	return (int64_t)u;
}

int
ctr_registry_open(struct ctr *c, struct hwgw_registry **out)
{
	struct hwg_error err = {0};

	if (c->conf.db == NULL || c->conf.mn_key == NULL) {
		hwg_error_set(&err, HWG_E_CONFIG, "[registry] db and mn_key are not set");
		return ctr_error(c, "register", &err, "complete the station's configuration");
	}
	if (hwgw_registry_open(c->conf.db, c->conf.mn_key, out, &err) != 0)
		return ctr_error(
		    c, "register", &err,
		    "check that the register is reachable ([registry] db), then retry");
	return 0;
}
