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

/* mn_key a key file, or sealed by the HSM key mn_key_hsm on [registry] pkcs11_token. */
static int
ctr_registry_open_conf(const struct ctr_conf *conf, struct hwgw_registry **out,
                       struct hwg_error *err)
{
	struct reg_p11_key hsm = {conf->p11_module, conf->p11_token, conf->p11_pin_file,
	                          conf->mn_key_hsm};

	if (conf->mn_key_hsm == NULL)
		return hwgw_registry_open(conf->db, conf->mn_key, out, err);
	return hwgw_registry_open_sealed(conf->db, conf->mn_key, &hsm, out, err);
}

int
ctr_registry_open(struct ctr *c, struct hwgw_registry **out)
{
	struct hwg_error err = {0};

	if (c->conf.db == NULL || c->conf.mn_key == NULL) {
		hwg_error_set(&err, HWG_E_CONFIG, "[registry] db and mn_key are not set");
		return ctr_error(c, "register", &err, "complete the station's configuration");
	}
	if (ctr_registry_open_conf(&c->conf, out, &err) != 0)
		return ctr_error(
		    c, "register", &err,
		    "check that the register is reachable ([registry] db) and its My Number key "
		    "([registry] mn_key, mn_key_hsm), then retry");
	return 0;
}
