/*
 * hwg_p11.c — see hwg_p11.h.  One session, one lock: the gateway signs a
 * few hundred things a second at most, and a single logged-in session is
 * what every PKCS#11 module handles best.  When the token loses our
 * session, the whole chain (slot by label, session, login, key handles
 * by label) is rebuilt and the operation tried once more.
 */
#include "hwg_p11.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/core_names.h>
#include <openssl/param_build.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <p11-kit/pkcs11.h>

#include "hwg_cose.h"
#include "hwg_secret.h"

#ifndef CKK_EC_EDWARDS
#define CKK_EC_EDWARDS 0x40UL
#endif
#ifndef CKM_EDDSA
#define CKM_EDDSA 0x1057UL
#endif

#define MAX_KEYS 8
#define PIN_MAX 64

struct hwg_p11_key {
	struct hwg_p11 *p11;
	char label[65];
	int alg;
	CK_OBJECT_HANDLE handle;
	EVP_PKEY *pub;
};

struct hwg_p11 {
	pthread_mutex_t lock;
	void *dl;
	CK_FUNCTION_LIST_PTR f;
	int finalize; /* we initialised the module */
	char module[256];
	char token[33];
	char pin_file[256];
	CK_SLOT_ID slot;
	CK_SESSION_HANDLE session; /* CK_INVALID_HANDLE when none */
	unsigned long reopens;
	struct hwg_p11_key keys[MAX_KEYS];
	size_t n_keys;
};

static const struct {
	CK_RV rv;
	const char *name;
} ckr_names[] = {
	{CKR_OK, "CKR_OK"},
	{CKR_GENERAL_ERROR, "CKR_GENERAL_ERROR"},
	{CKR_ARGUMENTS_BAD, "CKR_ARGUMENTS_BAD"},
	{CKR_DEVICE_ERROR, "CKR_DEVICE_ERROR"},
	{CKR_DEVICE_REMOVED, "CKR_DEVICE_REMOVED"},
	{CKR_KEY_HANDLE_INVALID, "CKR_KEY_HANDLE_INVALID"},
	{CKR_MECHANISM_INVALID, "CKR_MECHANISM_INVALID"},
	{CKR_OBJECT_HANDLE_INVALID, "CKR_OBJECT_HANDLE_INVALID"},
	{CKR_PIN_INCORRECT, "CKR_PIN_INCORRECT"},
	{CKR_PIN_LOCKED, "CKR_PIN_LOCKED"},
	{CKR_SESSION_CLOSED, "CKR_SESSION_CLOSED"},
	{CKR_SESSION_HANDLE_INVALID, "CKR_SESSION_HANDLE_INVALID"},
	{CKR_TOKEN_NOT_PRESENT, "CKR_TOKEN_NOT_PRESENT"},
	{CKR_TOKEN_NOT_RECOGNIZED, "CKR_TOKEN_NOT_RECOGNIZED"},
	{CKR_USER_NOT_LOGGED_IN, "CKR_USER_NOT_LOGGED_IN"},
	{CKR_USER_ALREADY_LOGGED_IN, "CKR_USER_ALREADY_LOGGED_IN"},
	{CKR_CRYPTOKI_NOT_INITIALIZED, "CKR_CRYPTOKI_NOT_INITIALIZED"},
	{CKR_DATA_LEN_RANGE, "CKR_DATA_LEN_RANGE"},
};

static const char *
ckr_name(CK_RV rv)
{
	static __thread char other[32];

	for (size_t i = 0; i < sizeof(ckr_names) / sizeof(ckr_names[0]); i++)
		if (ckr_names[i].rv == rv)
			return ckr_names[i].name;
	snprintf(other, sizeof(other), "CKR_0x%lx", (unsigned long)rv);
	return other;
}

/* Codes after which the session is gone and worth rebuilding once. */
static int
session_lost(CK_RV rv)
{
	return rv == CKR_SESSION_HANDLE_INVALID || rv == CKR_SESSION_CLOSED ||
	       rv == CKR_USER_NOT_LOGGED_IN || rv == CKR_TOKEN_NOT_PRESENT ||
	       rv == CKR_DEVICE_REMOVED || rv == CKR_OBJECT_HANDLE_INVALID ||
	       rv == CKR_KEY_HANDLE_INVALID || rv == CKR_DEVICE_ERROR;
}

/* PKCS#11 pads labels with spaces to 32 bytes. */
static void
trim_field(char *out, size_t outlen, const CK_UTF8CHAR *in, size_t inlen)
{
	size_t n = inlen < outlen - 1 ? inlen : outlen - 1;

	memcpy(out, in, n);
	while (n > 0 && (out[n - 1] == ' ' || out[n - 1] == '\0'))
		n--;
	out[n] = '\0';
}

/* ---------------------------------------------------------------- PIN */

static int
read_pin(const char *path, struct hwg_secret **out, struct hwg_error *err)
{
	struct hwg_secret *pin;
	struct stat st;
	ssize_t n;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) < 0)
		return hwg_error_set(err, HWG_E_CONFIG, "PIN file %s: %s", path, strerror(errno));
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return hwg_error_set(err, HWG_E_CONFIG, "PIN file %s is not a regular file", path);
	}
	if ((st.st_mode & 077) != 0 || st.st_uid != geteuid()) {
		close(fd);
		return hwg_error_set(err, HWG_E_CONFIG,
				     "PIN file %s must be owned by us with mode 0600 or stricter "
				     "(it is %04o)",
				     path, (unsigned)(st.st_mode & 07777));
	}
	if ((pin = hwg_secret_new(PIN_MAX + 1)) == NULL) {
		close(fd);
		return hwg_error_set(err, HWG_E_NOMEM, "out of memory");
	}
	n = read(fd, pin->data, PIN_MAX + 1);
	close(fd);
	if (n > 0 && pin->data[n - 1] == '\n')
		n--;
	if (n <= 0 || n > PIN_MAX) {
		hwg_secret_free(pin);
		return hwg_error_set(err, HWG_E_CONFIG, "PIN file %s must hold 1-%d characters",
				     path, PIN_MAX);
	}
	pin->data[n] = '\0';
	pin->len = (size_t)n;
	*out = pin;
	return 0;
}

/* ---------------------------------------------------------------- session */

static int
find_slot(struct hwg_p11 *p, struct hwg_error *err)
{
	CK_SLOT_ID slots[64];
	CK_ULONG n = 64;
	CK_TOKEN_INFO ti;
	char label[33];
	CK_RV rv;

	if ((rv = p->f->C_GetSlotList(CK_TRUE, slots, &n)) != CKR_OK)
		return hwg_error_set(err, HWG_E_HSM, "C_GetSlotList: %s", ckr_name(rv));
	for (CK_ULONG i = 0; i < n; i++) {
		if (p->f->C_GetTokenInfo(slots[i], &ti) != CKR_OK)
			continue;
		trim_field(label, sizeof(label), ti.label, sizeof(ti.label));
		if (strcmp(label, p->token) == 0) {
			p->slot = slots[i];
			return 0;
		}
	}
	return hwg_error_set(err, HWG_E_HSM, "no token labelled \"%s\" in PKCS#11 module %s",
			     p->token, p->module);
}

static void
session_close(struct hwg_p11 *p)
{
	if (p->session != CK_INVALID_HANDLE) {
		p->f->C_Logout(p->session);
		p->f->C_CloseSession(p->session);
		p->session = CK_INVALID_HANDLE;
	}
}

static int
session_open(struct hwg_p11 *p, struct hwg_error *err)
{
	struct hwg_secret *pin = NULL;
	CK_RV rv;
	int rc;

	if ((rc = find_slot(p, err)) != 0)
		return rc;
	if ((rc = read_pin(p->pin_file, &pin, err)) != 0)
		return rc;
	rv = p->f->C_OpenSession(p->slot, CKF_SERIAL_SESSION, NULL, NULL, &p->session);
	if (rv != CKR_OK) {
		hwg_secret_free(pin);
		p->session = CK_INVALID_HANDLE;
		return hwg_error_set(err, HWG_E_HSM, "C_OpenSession on token \"%s\": %s", p->token,
				     ckr_name(rv));
	}
	rv = p->f->C_Login(p->session, CKU_USER, (CK_UTF8CHAR_PTR)pin->data, pin->len);
	hwg_secret_free(pin);
	if (rv != CKR_OK && rv != CKR_USER_ALREADY_LOGGED_IN) {
		p->f->C_CloseSession(p->session);
		p->session = CK_INVALID_HANDLE;
		return hwg_error_set(err, HWG_E_HSM, "login refused by token \"%s\": %s", p->token,
				     ckr_name(rv));
	}
	return 0;
}

/* ---------------------------------------------------------------- keys */

/* "no such object": a value in the vendor range no module returns to us here */
#define CKR_NOT_FOUND_ (CKR_VENDOR_DEFINED | 0x4857UL)

static CK_RV
find_object(struct hwg_p11 *p, CK_OBJECT_CLASS cls, const char *label, CK_OBJECT_HANDLE *out)
{
	CK_ATTRIBUTE tmpl[] = {
		{CKA_CLASS, &cls, sizeof(cls)},
		{CKA_LABEL, (void *)(uintptr_t)label, strlen(label)},
	};
	CK_ULONG n = 0;
	CK_RV rv;

	if ((rv = p->f->C_FindObjectsInit(p->session, tmpl, 2)) != CKR_OK)
		return rv;
	rv = p->f->C_FindObjects(p->session, out, 1, &n);
	p->f->C_FindObjectsFinal(p->session);
	if (rv == CKR_OK && n != 1)
		return CKR_NOT_FOUND_;
	return rv;
}

/* Read one attribute into a malloc'd buffer. */
static CK_RV
get_attr(struct hwg_p11 *p, CK_OBJECT_HANDLE h, CK_ATTRIBUTE_TYPE type, uint8_t **val,
	 CK_ULONG *len)
{
	CK_ATTRIBUTE a = {type, NULL, 0};
	CK_RV rv;

	if ((rv = p->f->C_GetAttributeValue(p->session, h, &a, 1)) != CKR_OK)
		return rv;
	if (a.ulValueLen == CK_UNAVAILABLE_INFORMATION || a.ulValueLen > 1024)
		return CKR_GENERAL_ERROR;
	if ((a.pValue = malloc(a.ulValueLen ? a.ulValueLen : 1)) == NULL)
		return CKR_HOST_MEMORY;
	if ((rv = p->f->C_GetAttributeValue(p->session, h, &a, 1)) != CKR_OK) {
		free(a.pValue);
		return rv;
	}
	*val = a.pValue;
	*len = a.ulValueLen;
	return CKR_OK;
}

/* CKA_EC_POINT is a DER OCTET STRING around the point; some modules give it bare. */
static const uint8_t *
unwrap_point(const uint8_t *v, CK_ULONG len, size_t *out_len)
{
	if (len >= 2 && v[0] == 0x04 && v[1] == len - 2) {
		*out_len = len - 2;
		return v + 2;
	}
	if (len >= 3 && v[0] == 0x04 && v[1] == 0x81 && v[2] == len - 3) {
		*out_len = len - 3;
		return v + 3;
	}
	*out_len = len;
	return v;
}

static const uint8_t P256_OID[] = {0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07};

static EVP_PKEY *
build_public(int alg, const uint8_t *point, size_t len)
{
	OSSL_PARAM_BLD *bld;
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	EVP_PKEY *pk = NULL;

	if (alg == HWG_COSE_EDDSA)
		return len == 32 ? EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, point, len)
				 : NULL;
	if ((bld = OSSL_PARAM_BLD_new()) == NULL)
		return NULL;
	if (OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0) &&
	    OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, point, len) &&
	    (params = OSSL_PARAM_BLD_to_param(bld)) != NULL &&
	    (ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL)) != NULL &&
	    EVP_PKEY_fromdata_init(ctx) == 1)
		EVP_PKEY_fromdata(ctx, &pk, EVP_PKEY_PUBLIC_KEY, params);
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	return pk;
}

/* Look the key up in the current session: handle, type, public half. */
static int
key_load(struct hwg_p11 *p, struct hwg_p11_key *k, struct hwg_error *err)
{
	CK_OBJECT_HANDLE pubh;
	CK_KEY_TYPE type;
	CK_ATTRIBUTE ta = {CKA_KEY_TYPE, &type, sizeof(type)};
	uint8_t *params = NULL, *point = NULL;
	CK_ULONG plen = 0, ptlen = 0;
	const uint8_t *raw;
	size_t rawlen;
	CK_RV rv;

	rv = find_object(p, CKO_PRIVATE_KEY, k->label, &k->handle);
	if (rv == CKR_NOT_FOUND_ || (rv == CKR_OK && find_object(p, CKO_PUBLIC_KEY, k->label,
								 &pubh) == CKR_NOT_FOUND_))
		return hwg_error_set(err, HWG_E_NOT_FOUND,
				     "key \"%s\" (private and public) not found in token \"%s\"",
				     k->label, p->token);
	if (rv != CKR_OK || (rv = find_object(p, CKO_PUBLIC_KEY, k->label, &pubh)) != CKR_OK ||
	    (rv = p->f->C_GetAttributeValue(p->session, k->handle, &ta, 1)) != CKR_OK)
		return hwg_error_set(err, HWG_E_HSM, "key \"%s\": %s", k->label, ckr_name(rv));
	if (type == CKK_EC) {
		k->alg = HWG_COSE_ES256;
		if (get_attr(p, pubh, CKA_EC_PARAMS, &params, &plen) != CKR_OK ||
		    plen != sizeof(P256_OID) || memcmp(params, P256_OID, plen) != 0) {
			free(params);
			return hwg_error_set(err, HWG_E_HSM, "key \"%s\" is EC but not P-256",
					     k->label);
		}
		free(params);
	} else if (type == CKK_EC_EDWARDS) {
		k->alg = HWG_COSE_EDDSA;
	} else {
		return hwg_error_set(err, HWG_E_HSM, "key \"%s\" is neither EC P-256 nor Ed25519",
				     k->label);
	}
	if ((rv = get_attr(p, pubh, CKA_EC_POINT, &point, &ptlen)) != CKR_OK)
		return hwg_error_set(err, HWG_E_HSM, "key \"%s\": CKA_EC_POINT: %s", k->label,
				     ckr_name(rv));
	raw = unwrap_point(point, ptlen, &rawlen);
	EVP_PKEY_free(k->pub);
	k->pub = build_public(k->alg, raw, rawlen);
	free(point);
	if (k->pub == NULL)
		return hwg_error_set(err, HWG_E_HSM, "key \"%s\": public point not understood",
				     k->label);
	return 0;
}

/* Rebuild the session and every key handle after a loss. */
static int
reopen(struct hwg_p11 *p, struct hwg_error *err)
{
	int rc;

	session_close(p);
	if ((rc = session_open(p, err)) != 0)
		return rc;
	p->reopens++;
	for (size_t i = 0; i < p->n_keys; i++)
		if ((rc = key_load(p, &p->keys[i], err)) != 0)
			return rc;
	return 0;
}

/* ---------------------------------------------------------------- API */

int
hwg_p11_open(const struct hwg_p11_config *cfg, struct hwg_p11 **out, struct hwg_error *err)
{
	CK_C_INITIALIZE_ARGS init = {.flags = CKF_OS_LOCKING_OK};
	CK_RV (*get_list)(CK_FUNCTION_LIST_PTR_PTR);
	struct hwg_p11 *p;
	CK_RV rv;
	int rc;

	if (strlen(cfg->token_label) > 32 || strlen(cfg->module_path) >= 256 ||
	    strlen(cfg->pin_file) >= 256)
		return hwg_error_set(err, HWG_E_CONFIG, "HSM module, token or PIN path too long");
	if ((p = calloc(1, sizeof(*p))) == NULL)
		return hwg_error_set(err, HWG_E_NOMEM, "out of memory");
	pthread_mutex_init(&p->lock, NULL);
	p->session = CK_INVALID_HANDLE;
	snprintf(p->module, sizeof(p->module), "%s", cfg->module_path);
	snprintf(p->token, sizeof(p->token), "%s", cfg->token_label);
	snprintf(p->pin_file, sizeof(p->pin_file), "%s", cfg->pin_file);
	if ((p->dl = dlopen(cfg->module_path, RTLD_NOW | RTLD_LOCAL)) == NULL) {
		rc = hwg_error_set(err, HWG_E_HSM, "cannot load PKCS#11 module %s: %s",
				   cfg->module_path, dlerror());
		goto fail;
	}
	*(void **)&get_list = dlsym(p->dl, "C_GetFunctionList");
	if (get_list == NULL || get_list(&p->f) != CKR_OK || p->f == NULL) {
		rc = hwg_error_set(err, HWG_E_HSM, "%s is not a PKCS#11 module", cfg->module_path);
		goto fail;
	}
	rv = p->f->C_Initialize(&init);
	if (rv != CKR_OK && rv != CKR_CRYPTOKI_ALREADY_INITIALIZED) {
		rc = hwg_error_set(err, HWG_E_HSM, "C_Initialize: %s", ckr_name(rv));
		goto fail;
	}
	p->finalize = rv == CKR_OK;
	if ((rc = session_open(p, err)) != 0)
		goto fail;
	*out = p;
	return 0;
fail:
	hwg_p11_close(p);
	return rc;
}

void
hwg_p11_close(struct hwg_p11 *p)
{
	if (p == NULL)
		return;
	if (p->f != NULL) {
		session_close(p);
		if (p->finalize)
			p->f->C_Finalize(NULL);
	}
	for (size_t i = 0; i < p->n_keys; i++)
		EVP_PKEY_free(p->keys[i].pub);
	if (p->dl != NULL)
		dlclose(p->dl);
	pthread_mutex_destroy(&p->lock);
	free(p);
}

int
hwg_p11_key_find(struct hwg_p11 *p, const char *label, struct hwg_p11_key **out,
		 struct hwg_error *err)
{
	struct hwg_p11_key *k;
	int rc;

	if (strlen(label) >= sizeof(k->label))
		return hwg_error_set(err, HWG_E_CONFIG, "key label too long");
	pthread_mutex_lock(&p->lock);
	for (size_t i = 0; i < p->n_keys; i++)
		if (strcmp(p->keys[i].label, label) == 0) {
			*out = &p->keys[i];
			pthread_mutex_unlock(&p->lock);
			return 0;
		}
	if (p->n_keys == MAX_KEYS) {
		pthread_mutex_unlock(&p->lock);
		return hwg_error_set(err, HWG_E_INTERNAL, "too many keys");
	}
	k = &p->keys[p->n_keys];
	memset(k, 0, sizeof(*k));
	k->p11 = p;
	snprintf(k->label, sizeof(k->label), "%s", label);
	if ((rc = key_load(p, k, err)) == 0) {
		p->n_keys++;
		*out = k;
	} else {
		EVP_PKEY_free(k->pub);
		k->pub = NULL;
	}
	pthread_mutex_unlock(&p->lock);
	return rc;
}

int
hwg_p11_key_alg(const struct hwg_p11_key *k)
{
	return k->alg;
}

EVP_PKEY *
hwg_p11_key_public(const struct hwg_p11_key *k)
{
	if (k->pub == NULL || EVP_PKEY_up_ref(k->pub) != 1)
		return NULL;
	return k->pub;
}

static CK_RV
sign_once(struct hwg_p11 *p, struct hwg_p11_key *k, const uint8_t *data, size_t len,
	  uint8_t sig[64])
{
	CK_MECHANISM mech = {k->alg == HWG_COSE_EDDSA ? CKM_EDDSA : CKM_ECDSA, NULL, 0};
	CK_ULONG siglen = 64;
	CK_RV rv;

	if (p->session == CK_INVALID_HANDLE)
		return CKR_SESSION_HANDLE_INVALID;
	if ((rv = p->f->C_SignInit(p->session, &mech, k->handle)) != CKR_OK)
		return rv;
	rv = p->f->C_Sign(p->session, (CK_BYTE_PTR)(uintptr_t)data, len, sig, &siglen);
	if (rv == CKR_OK && siglen != 64)
		rv = CKR_GENERAL_ERROR;
	return rv;
}

int
hwg_p11_sign(struct hwg_p11 *p, struct hwg_p11_key *k, const uint8_t *data, size_t len,
	     uint8_t sig[64], struct hwg_error *err)
{
	CK_RV rv;
	int rc = 0;

	if (k->alg == HWG_COSE_ES256 && len != 32)
		return hwg_error_set(err, HWG_E_INVALID, "ES256 signs only 32-byte digests");
	pthread_mutex_lock(&p->lock);
	rv = sign_once(p, k, data, len, sig);
	if (session_lost(rv)) {
		if ((rc = reopen(p, err)) == 0)
			rv = sign_once(p, k, data, len, sig);
	}
	pthread_mutex_unlock(&p->lock);
	if (rc != 0)
		return rc;
	if (rv != CKR_OK)
		return hwg_error_set(err, HWG_E_HSM, "signing with \"%s\": %s", k->label,
				     ckr_name(rv));
	return 0;
}

int
hwg_p11_token_info(struct hwg_p11 *p, struct hwg_p11_token_info *out, struct hwg_error *err)
{
	CK_TOKEN_INFO ti;
	CK_SESSION_INFO si;
	CK_RV rv;

	memset(out, 0, sizeof(*out));
	pthread_mutex_lock(&p->lock);
	rv = p->f->C_GetTokenInfo(p->slot, &ti);
	if (rv == CKR_OK) {
		out->present = 1;
		trim_field(out->label, sizeof(out->label), ti.label, sizeof(ti.label));
		trim_field(out->manufacturer, sizeof(out->manufacturer), ti.manufacturerID,
			   sizeof(ti.manufacturerID));
		trim_field(out->model, sizeof(out->model), ti.model, sizeof(ti.model));
		trim_field(out->serial, sizeof(out->serial), ti.serialNumber,
			   sizeof(ti.serialNumber));
		out->present = strcmp(out->label, p->token) == 0;
	}
	out->logged_in = p->session != CK_INVALID_HANDLE &&
			 p->f->C_GetSessionInfo(p->session, &si) == CKR_OK &&
			 (si.state == CKS_RO_USER_FUNCTIONS || si.state == CKS_RW_USER_FUNCTIONS);
	out->session_reopens = p->reopens;
	pthread_mutex_unlock(&p->lock);
	if (rv != CKR_OK && rv != CKR_TOKEN_NOT_PRESENT && rv != CKR_SLOT_ID_INVALID)
		return hwg_error_set(err, HWG_E_HSM, "C_GetTokenInfo: %s", ckr_name(rv));
	return 0;
}

void
hwg_p11_test_drop_session(struct hwg_p11 *p)
{
	pthread_mutex_lock(&p->lock);
	p->f->C_CloseSession(p->session);
	pthread_mutex_unlock(&p->lock);
}
