/*
 * test_roles.c — the roles (gateway/shared/hwg_roles.c) and what the
 * operation table allows them: every name both ways; registry a client's
 * role only and supervisor an operator's only; a supervisor's session on
 * an issuance station and no other client; no operation in the table
 * allows a registry client, none names supervisor as a client's role,
 * and operator.logout takes every operator's session; and, end to end
 * through hwg_verify, a request signed by a registry client is refused
 * forbidden for every operation while an issuance client's gw.info
 * passes.  [card] mynumber_roles takes neither new role.
 */
#include <cbor.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <stdlib.h>
#include <string.h>

#include "hwg_cbor.h"
#include "hwg_clients.h"
#include "hwg_config.h"
#include "hwg_cose.h"
#include "hwg_optable.h"
#include "hwg_roles.h"
#include "hwg_test.h"
#include "hwg_time.h"
#include "hwg_verify.h"

#define GW "gw-roles"

static void
test_names(void)
{
	static const char *const names[] = {"counter",     "issuance", "admin",     "auditor",
	                                    "maintenance", "registry", "supervisor"};

	CHECK_EQ_INT(HWG_ROLE_COUNT_, sizeof(names) / sizeof(names[0]));
	for (int i = 0; i < HWG_ROLE_COUNT_; i++) {
		CHECK_EQ_INT(hwg_role_parse(names[i]), i);
		CHECK_EQ_STR(hwg_role_name(i), names[i]);
	}
	CHECK_EQ_INT(hwg_role_parse("Registry"), -1);
	CHECK_EQ_INT(hwg_role_parse(NULL), -1);
}

static void
test_client_and_operator_roles(void)
{
	for (int r = 0; r < HWG_ROLE_COUNT_; r++) {
		CHECK_EQ_INT(hwg_role_client(r), r != HWG_ROLE_SUPERVISOR);
		CHECK_EQ_INT(hwg_role_operator(r), r != HWG_ROLE_REGISTRY);
	}
	CHECK(!hwg_role_client(-1) && !hwg_role_client(HWG_ROLE_COUNT_));
	CHECK(!hwg_role_operator(-1) && !hwg_role_operator(HWG_ROLE_COUNT_));
	CHECK(strstr(HWG_ROLES_CLIENT_TEXT, "registry") != NULL &&
	      strstr(HWG_ROLES_CLIENT_TEXT, "supervisor") == NULL);
	CHECK(strstr(HWG_ROLES_OPERATOR_TEXT, "supervisor") != NULL &&
	      strstr(HWG_ROLES_OPERATOR_TEXT, "registry") == NULL);
}

static void
test_supervisor_session_on_issuance_only(void)
{
	for (int c = 0; c < HWG_ROLE_COUNT_; c++)
		CHECK_EQ_INT(hwg_role_session_allowed(c, HWG_ROLE_SUPERVISOR),
		             c == HWG_ROLE_ISSUANCE);
	for (int c = 0; c < HWG_ROLE_COUNT_; c++)
		CHECK_EQ_INT(hwg_role_session_allowed(c, HWG_ROLE_COUNTER),
		             c != HWG_ROLE_SUPERVISOR);
	CHECK(!hwg_role_session_allowed(HWG_ROLE_ISSUANCE, HWG_ROLE_REGISTRY));
	CHECK(!hwg_role_session_allowed(HWG_ROLE_SUPERVISOR, HWG_ROLE_SUPERVISOR));
}

static void
test_table_allows_registry_nothing(void)
{
	const struct hwg_op *op;
	int n = 0;

	for (int i = 0; (op = hwg_op_at(i)) != NULL; i++, n++) {
		unsigned opr = op->operator_roles ? op->operator_roles : op->roles;

		if (op->roles & HWG_ROLE_BIT(HWG_ROLE_REGISTRY))
			fprintf(stderr, "  %s allows the registry\n", op->name);
		CHECK((op->roles & HWG_ROLE_BIT(HWG_ROLE_REGISTRY)) == 0);
		CHECK((opr & HWG_ROLE_BIT(HWG_ROLE_REGISTRY)) == 0);
		/* no client is a supervisor: it can only be an operator role */
		CHECK((op->roles & HWG_ROLE_BIT(HWG_ROLE_SUPERVISOR)) == 0);
		CHECK(op->operator_roles == 0 || (op->flags & HWG_OP_OPERATOR));
	}
	CHECK(n > 10);
	op = hwg_op_find("operator.logout");
	REQUIRE(op != NULL);
	CHECK(op->operator_roles & HWG_ROLE_BIT(HWG_ROLE_SUPERVISOR));
	op = hwg_op_find("card.read_info");
	REQUIRE(op != NULL);
	CHECK(op->operator_roles == 0 && (op->roles & HWG_ROLE_BIT(HWG_ROLE_SUPERVISOR)) == 0);
}

/* ---------------------------------------------------------------- hwg_verify */

struct one_client {
	const char *id;
	int role;
	EVP_PKEY *key;
};

static struct one_client registry = {"registry-01", HWG_ROLE_REGISTRY, NULL},
                         station = {"station-01", HWG_ROLE_ISSUANCE, NULL};

static int
walk(void *src, int (*fn)(void *ctx, const struct hwg_client_rec *c), void *ctx,
     struct hwg_error *err)
{
	struct one_client *all[] = {&registry, &station};

	(void)src;
	(void)err;
	for (size_t i = 0; i < 2; i++) {
		struct hwg_client_rec c = {.role = all[i]->role, .n_uids = 0};
		unsigned char *der = NULL;
		int n = i2d_PUBKEY(all[i]->key, &der), rc;

		snprintf(c.id, sizeof(c.id), "%s", all[i]->id);
		c.pubkey_der = der;
		c.pubkey_len = n > 0 ? (size_t)n : 0;
		rc = fn(ctx, &c);
		OPENSSL_free(der);
		if (rc != 0)
			return rc;
	}
	return 0;
}

/* A request of client for op, signed with its key; *len bytes, malloc'd. */
static uint8_t *
request(const struct one_client *c, const char *op, size_t *len)
{
	cbor_item_t *m = cbor_new_definite_map(7), *args = cbor_new_definite_map(0);
	uint8_t nonce[16], *payload = NULL, *msg = NULL;
	size_t cap = 0, plen;
	struct hwg_error err = {0};

	RAND_bytes(nonce, sizeof(nonce));
	if (hwg_cbor_map_put_uint(m, "v", 1) | hwg_cbor_map_put_text(m, "op", op) |
	    hwg_cbor_map_put_text(m, "aud", GW) | hwg_cbor_map_put_text(m, "cid", c->id) |
	    hwg_cbor_map_put_uint(m, "t", (uint64_t)hwg_now_ms()) |
	    hwg_cbor_map_put_bytes(m, "nonce", nonce, sizeof(nonce)) |
	    hwg_cbor_map_put_item(m, "args", args))
		abort();
	plen = cbor_serialize_alloc(m, &payload, &cap);
	cbor_decref(&m);
	if (plen == 0 || hwg_cose_sign1_encode(HWG_COSE_EDDSA, payload, plen, hwg_cose_evp_signer,
	                                       c->key, &msg, len, &err) != 0)
		abort();
	free(payload);
	return msg;
}

static void
test_registry_refused_every_operation(void)
{
	static const char conf[] = "[gateway]\nid = " GW "\nstate_dir = /var/lib/hwgw\n"
	                           "[hsm]\nmodule = /m.so\ntoken = t\npin_file = /p\n"
	                           "[unix]\nsocket = /run/x.sock\n";
	struct hwg_peer peer = {"http", -1, NULL, 0};
	struct hwg_clients *cs = hwg_clients_new();
	struct hwg_config cfg;
	struct hwg_error err = {0};
	struct hwg_verdict v;
	const struct hwg_op *op;
	uint8_t *msg;
	size_t len;

	hwg_config_defaults(&cfg);
	REQUIRE(hwg_config_parse_string(conf, "test", &cfg, &err) == 0);
	REQUIRE(cs != NULL && hwg_clients_load(cs, walk, NULL, NULL, &err) == 0);
	for (int i = 0; (op = hwg_op_at(i)) != NULL; i++) {
		msg = request(&registry, op->name, &len);
		CHECK_EQ_INT(hwg_verify(&cfg, cs, &peer, msg, len, &v), HWG_E_FORBIDDEN);
		CHECK(strstr(v.message, "role registry may not call") != NULL);
		hwg_verdict_clear(&v);
		free(msg);
	}
	/* the check can pass: the station's gw.info does */
	msg = request(&station, "gw.info", &len);
	CHECK_EQ_INT(hwg_verify(&cfg, cs, &peer, msg, len, &v), 0);
	hwg_verdict_clear(&v);
	free(msg);
	hwg_clients_free(cs);
	hwg_config_clear(&cfg);
}

static void
test_mynumber_roles_take_neither(void)
{
	static const char conf[] = "[gateway]\nid = " GW "\nstate_dir = /var/lib/hwgw\n"
	                           "[hsm]\nmodule = /m.so\ntoken = t\npin_file = /p\n"
	                           "[unix]\nsocket = /run/x.sock\n[card]\nmynumber_roles = ";
	const char *bad[] = {"registry", "supervisor", "counter registry"};
	struct hwg_config cfg;
	struct hwg_error err = {0};
	char text[512];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(text, sizeof(text), "%s%s\n", conf, bad[i]);
		hwg_config_defaults(&cfg);
		CHECK_EQ_INT(hwg_config_parse_string(text, "test", &cfg, &err), HWG_E_CONFIG);
		CHECK(strstr(err.message, "mynumber_roles") != NULL);
		hwg_config_clear(&cfg);
	}
	snprintf(text, sizeof(text), "%sissuance\n", conf);
	hwg_config_defaults(&cfg);
	CHECK_EQ_INT(hwg_config_parse_string(text, "test", &cfg, &err), 0);
	hwg_config_clear(&cfg);
}

int
main(void)
{
	registry.key = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	station.key = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	if (registry.key == NULL || station.key == NULL)
		return 2;
	HWG_RUN(test_names);
	HWG_RUN(test_client_and_operator_roles);
	HWG_RUN(test_supervisor_session_on_issuance_only);
	HWG_RUN(test_table_allows_registry_nothing);
	HWG_RUN(test_registry_refused_every_operation);
	HWG_RUN(test_mynumber_roles_take_neither);
	EVP_PKEY_free(registry.key);
	EVP_PKEY_free(station.key);
	return HWG_TEST_END();
}
