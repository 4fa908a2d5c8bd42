/*
 * counter_conf.c — the station's configuration file (INI): how to reach
 * the gateway ([client], the keys hwgwctl's --profile takes), the
 * station's devices and state ([counter]) and the register ([registry]).
 * Relative paths are relative to the file's folder.  One table of keys,
 * each read in one place; an unknown key is refused with its line.
 */
#include <ini.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "counter.h"

struct key {
	const char *section, *name;
	size_t off;
	int path; /* relative to the file's folder */
};

#define K(s, n, f, p)                                                                              \
	{                                                                                          \
		s, n, offsetof(struct ctr_conf, f), p                                              \
	}
static const struct key keys[] = {
    K("client", "client_id", client_id, 0),
    K("client", "key", key, 1),
    K("client", "gateway_id", gateway_id, 0),
    K("client", "gateway_pubkey", gateway_pub, 1),
    K("client", "socket", socket, 1),
    K("counter", "terminal", terminal, 0),
    K("counter", "reader", reader, 0),
    K("counter", "printer", printer, 0),
    K("counter", "state_dir", state_dir, 1),
    K("counter", "operator_id", operator_id, 0),
    K("counter", "mynumber_roles", mynumber_roles, 0),
    K("registry", "db", db, 0),
    K("registry", "mn_key", mn_key, 1),
    K("registry", "key", registry_key, 1),
    K("registry", "client_id", registry_id, 0),
    K("registry", "mn_key_hsm", mn_key_hsm, 0),
    K("registry", "pkcs11_module", p11_module, 0),
    K("registry", "pkcs11_token", p11_token, 0),
    K("registry", "pkcs11_pin_file", p11_pin_file, 1),
};
#define N_KEYS (sizeof(keys) / sizeof(keys[0]))

struct parse {
	struct ctr_conf *c;
	const char *dir; /* the file's folder, with its slash; "" for none */
	char problem[200];
};

static char **
slot(struct ctr_conf *c, const struct key *k)
{
	return (char **)((char *)c + k->off);
}

/*
 * value, or dir + value for a relative path (the registry URI "sqlite:REL"
 * too; a key "pkcs11:LABEL" names no file).
 */
static char *
resolve(const char *dir, const char *value, int path)
{
	const char *prefix = "", *rest = value;
	size_t n;
	char *s;

	if (!path && strncmp(value, "sqlite:", 7) == 0) {
		prefix = "sqlite:";
		rest = value + 7;
		path = 1;
	}
	if (path && strncmp(value, "pkcs11:", 7) == 0)
		path = 0;
	if (!path || rest[0] == '/' || dir[0] == '\0')
		return strdup(value);
	n = strlen(prefix) + strlen(dir) + strlen(rest) + 1;
	if ((s = malloc(n)) != NULL)
		snprintf(s, n, "%s%s%s", prefix, dir, rest);
	return s;
}

static int
on_key(void *user, const char *section, const char *name, const char *value)
{
	struct parse *p = user;
	const char *why = NULL;
	size_t i;

	for (i = 0; i < N_KEYS; i++)
		if (strcmp(keys[i].section, section) == 0 && strcmp(keys[i].name, name) == 0)
			break;
	if (i == N_KEYS)
		why = "unknown key";
	else if (*slot(p->c, &keys[i]) != NULL)
		why = "given twice";
	else if (value[0] == '\0')
		why = "empty value";
	else if ((*slot(p->c, &keys[i]) = resolve(p->dir, value, keys[i].path)) == NULL)
		why = "out of memory";
	if (why != NULL && p->problem[0] == '\0')
		snprintf(p->problem, sizeof(p->problem), "[%.20s] %.40s: %s", section, name, why);
	return why == NULL;
}

/* What a station cannot work without. */
static const char *
missing(const struct ctr_conf *c)
{
	if (c->client_id == NULL || c->key == NULL || c->gateway_id == NULL ||
	    c->gateway_pub == NULL || c->socket == NULL)
		return "[client] needs client_id, key, gateway_id, gateway_pubkey and socket";
	if (c->terminal == NULL || c->reader == NULL || c->state_dir == NULL)
		return "[counter] needs terminal, reader and state_dir";
	return NULL;
}

int
ctr_conf_load(const char *path, struct ctr_conf *c, struct hwg_error *err)
{
	char dir[CTR_PATH_MAX] = "";
	const char *slash = strrchr(path, '/');
	struct parse p = {.c = c, .dir = dir};
	const char *why;
	int rc;

	memset(c, 0, sizeof(*c));
	if (slash != NULL)
		snprintf(dir, sizeof(dir), "%.*s/", (int)(slash - path), path);
	rc = ini_parse(path, on_key, &p);
	if (rc == -1)
		return hwg_error_set(err, HWG_E_CONFIG, "cannot read the configuration %s", path);
	if (rc != 0)
		return hwg_error_set(err, HWG_E_CONFIG, "%s line %d: %s", path, rc,
		                     p.problem[0] ? p.problem : "not INI syntax");
	if ((why = missing(c)) != NULL)
		return hwg_error_set(err, HWG_E_CONFIG, "%s: %s", path, why);
	return 0;
}

void
ctr_conf_clear(struct ctr_conf *c)
{
	for (size_t i = 0; i < N_KEYS; i++) {
		free(*slot(c, &keys[i]));
		*slot(c, &keys[i]) = NULL;
	}
}
