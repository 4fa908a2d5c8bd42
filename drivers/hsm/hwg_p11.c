/*
 * hwg_p11.c — see hwg_p11.h.  One session, one lock: the gateway signs
 * and seals a few hundred things a second at most, and a single logged-in
 * session is what every PKCS#11 module handles best.  When the token
 * loses our session, the whole chain (slot by label, session, login, key
 * handles by label) is rebuilt and the operation tried once more.
 * Whatever the module returns (slot counts, attribute lengths, points,
 * signature and ciphertext lengths, text fields) is checked before use.
 */
#include "hwg_p11.h"

#include <dlfcn.h>
#include <openssl/core_names.h>
#include <openssl/param_build.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <p11-kit/pkcs11.h>

#include "hwg_cose.h"
#include "hwg_file.h"
#include "hwg_secret.h"

#ifndef CKK_EC_EDWARDS
#define CKK_EC_EDWARDS 0x40UL
#endif
#ifndef CKM_EDDSA
#define CKM_EDDSA 0x1057UL
#endif

#define MAX_KEYS 8
#define MAX_SLOTS 256
#define MAX_MODULES 8
#define PIN_MAX 64
#define ATTR_MAX 128 /* EC parameters and points we accept are far shorter */
#define SIG_MAX 256  /* room for any signature a module might return */
#define CHECK_MAX 32 /* CKA_CHECK_VALUE: 3 bytes in every module we know */

struct module_use;

enum key_kind { KEY_PAIR, KEY_SECRET };

struct hwg_p11_key {
	struct hwg_p11 *p11;
	enum key_kind kind;
	char label[65];
	int alg;                  /* key pairs: fixed by the first load */
	EVP_PKEY *pub;            /* key pairs: fixed by the first load */
	int loaded;               /* secret keys: check value below recorded */
	uint8_t check[CHECK_MAX]; /* secret keys: CKA_CHECK_VALUE at the first load */
	size_t check_len;         /* 0 when the token gives none */
	CK_OBJECT_HANDLE handle;  /* valid in the current session only */
};

/*
 * A session of its own for signatures (hwg_p11_set_signers), used outside
 * the lock so that several sign at once.  One of an older generation (the
 * main session was re-opened since) is opened afresh before its next use.
 */
struct signer {
	CK_SESSION_HANDLE session; /* CK_INVALID_HANDLE: to be opened */
	unsigned long generation;  /* p->reopens when it was opened */
	int busy;
};

struct hwg_p11 {
	pthread_mutex_t lock; /* around every use of the token */
	void *dl;
	CK_FUNCTION_LIST_PTR f;
	struct module_use *mod;
	char module[256];
	char token[33];
	char pin_file[256];
	CK_SESSION_HANDLE session; /* CK_INVALID_HANDLE when none */
	CK_SLOT_ID slot;           /* session's */
	int pin_refused;           /* the token refused the PIN: never retry it */
	unsigned long reopens;     /* also the generation of the signers' sessions */
	pthread_cond_t signer_freed;
	struct signer signers[HWG_P11_SIGNERS_MAX]; /* hwg_p11_set_signers */
	unsigned n_signers;
	struct hwg_p11_key keys[MAX_KEYS];
	size_t n_keys;
};

/*
 * A module is initialised once per process however many handles use it:
 * C_Finalize or C_Logout (login state belongs to the application, not
 * the session) by one handle would end every other handle's sessions.
 * The last handle to leave logs out and finalizes, and only if we were the
 * ones who initialised the module.
 */
static struct module_use {
	void *dl;
	unsigned int users;
	int finalize;
	int down; /* our re-initialisation failed: C_Initialize again before use */
} modules[MAX_MODULES];
static pthread_mutex_t modules_lock = PTHREAD_MUTEX_INITIALIZER;

/* ---------------------------------------------------------------- CKR_ names */

static const struct {
	CK_RV rv;
	const char *name;
} ckr_names[] = {
    {CKR_OK, "CKR_OK"},
    {CKR_HOST_MEMORY, "CKR_HOST_MEMORY"},
    {CKR_SLOT_ID_INVALID, "CKR_SLOT_ID_INVALID"},
    {CKR_GENERAL_ERROR, "CKR_GENERAL_ERROR"},
    {CKR_FUNCTION_FAILED, "CKR_FUNCTION_FAILED"},
    {CKR_ARGUMENTS_BAD, "CKR_ARGUMENTS_BAD"},
    {CKR_ATTRIBUTE_SENSITIVE, "CKR_ATTRIBUTE_SENSITIVE"},
    {CKR_ATTRIBUTE_TYPE_INVALID, "CKR_ATTRIBUTE_TYPE_INVALID"},
    {CKR_DATA_INVALID, "CKR_DATA_INVALID"},
    {CKR_DATA_LEN_RANGE, "CKR_DATA_LEN_RANGE"},
    {CKR_DEVICE_ERROR, "CKR_DEVICE_ERROR"},
    {CKR_DEVICE_MEMORY, "CKR_DEVICE_MEMORY"},
    {CKR_DEVICE_REMOVED, "CKR_DEVICE_REMOVED"},
    {CKR_ENCRYPTED_DATA_INVALID, "CKR_ENCRYPTED_DATA_INVALID"},
    {CKR_ENCRYPTED_DATA_LEN_RANGE, "CKR_ENCRYPTED_DATA_LEN_RANGE"},
    {CKR_FUNCTION_NOT_SUPPORTED, "CKR_FUNCTION_NOT_SUPPORTED"},
    {CKR_KEY_HANDLE_INVALID, "CKR_KEY_HANDLE_INVALID"},
    {CKR_KEY_TYPE_INCONSISTENT, "CKR_KEY_TYPE_INCONSISTENT"},
    {CKR_KEY_FUNCTION_NOT_PERMITTED, "CKR_KEY_FUNCTION_NOT_PERMITTED"},
    {CKR_MECHANISM_INVALID, "CKR_MECHANISM_INVALID"},
    {CKR_MECHANISM_PARAM_INVALID, "CKR_MECHANISM_PARAM_INVALID"},
    {CKR_OBJECT_HANDLE_INVALID, "CKR_OBJECT_HANDLE_INVALID"},
    {CKR_OPERATION_ACTIVE, "CKR_OPERATION_ACTIVE"},
    {CKR_OPERATION_NOT_INITIALIZED, "CKR_OPERATION_NOT_INITIALIZED"},
    {CKR_PIN_INCORRECT, "CKR_PIN_INCORRECT"},
    {CKR_PIN_INVALID, "CKR_PIN_INVALID"},
    {CKR_PIN_LEN_RANGE, "CKR_PIN_LEN_RANGE"},
    {CKR_PIN_EXPIRED, "CKR_PIN_EXPIRED"},
    {CKR_PIN_LOCKED, "CKR_PIN_LOCKED"},
    {CKR_SESSION_CLOSED, "CKR_SESSION_CLOSED"},
    {CKR_SESSION_COUNT, "CKR_SESSION_COUNT"},
    {CKR_SESSION_HANDLE_INVALID, "CKR_SESSION_HANDLE_INVALID"},
    {CKR_TOKEN_NOT_PRESENT, "CKR_TOKEN_NOT_PRESENT"},
    {CKR_TOKEN_NOT_RECOGNIZED, "CKR_TOKEN_NOT_RECOGNIZED"},
    {CKR_USER_ALREADY_LOGGED_IN, "CKR_USER_ALREADY_LOGGED_IN"},
    {CKR_USER_NOT_LOGGED_IN, "CKR_USER_NOT_LOGGED_IN"},
    {CKR_USER_PIN_NOT_INITIALIZED, "CKR_USER_PIN_NOT_INITIALIZED"},
    {CKR_USER_TYPE_INVALID, "CKR_USER_TYPE_INVALID"},
    {CKR_BUFFER_TOO_SMALL, "CKR_BUFFER_TOO_SMALL"},
    {CKR_CRYPTOKI_NOT_INITIALIZED, "CKR_CRYPTOKI_NOT_INITIALIZED"},
    {CKR_CRYPTOKI_ALREADY_INITIALIZED, "CKR_CRYPTOKI_ALREADY_INITIALIZED"},
};

static const char *
ckr_name(CK_RV rv)
{
	static _Thread_local char other[32];

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

/*
 * Codes from C_Decrypt that mean the sealed bytes did not verify.  SoftHSM2
 * 2.6.1 answers a wrong GCM tag (and so any changed IV, ciphertext, AAD or
 * key) with CKR_GENERAL_ERROR, which it also uses for internal failures
 * it cannot otherwise name: after a C_DecryptInit that succeeded, over
 * input we checked, the tag is what failed.  The others are what modules
 * that name the failure return for it.
 */
static int
open_refused(CK_RV rv)
{
	return rv == CKR_GENERAL_ERROR || rv == CKR_ENCRYPTED_DATA_INVALID ||
	       rv == CKR_ENCRYPTED_DATA_LEN_RANGE || rv == CKR_DATA_INVALID ||
	       rv == CKR_DATA_LEN_RANGE;
}

/* Codes after which logging in again with the same PIN would only burn a try. */
static int
pin_refusal(CK_RV rv)
{
	return rv == CKR_PIN_INCORRECT || rv == CKR_PIN_INVALID || rv == CKR_PIN_LEN_RANGE ||
	       rv == CKR_PIN_EXPIRED || rv == CKR_PIN_LOCKED;
}

/*
 * PKCS#11 pads text fields with spaces to a fixed width and does not
 * terminate them.  Copy, trim, and replace control bytes: the fields end
 * up in logs and in device.list.
 */
static void
trim_field(char *out, size_t outlen, const CK_UTF8CHAR *in, size_t inlen)
{
	size_t n = inlen < outlen - 1 ? inlen : outlen - 1;

	memcpy(out, in, n);
	while (n > 0 && (out[n - 1] == ' ' || out[n - 1] == '\0'))
		n--;
	out[n] = '\0';
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)out[i] < 0x20 || out[i] == 0x7f)
			out[i] = '?';
}

/* ---------------------------------------------------------------- PIN */

/*
 * Read the user PIN: a regular file owned by us, no group or other bits
 * (hwg_file_read_secret), one line of 1..PIN_MAX bytes (one trailing
 * newline stripped).  Messages name the file, never its contents.
 */
static int
read_pin(const char *path, struct hwg_secret **out, struct hwg_error *err)
{
	struct hwg_secret *pin;
	struct hwg_error ferr = {0};
	size_t n = 0;
	int rc;

	if ((pin = hwg_secret_new(PIN_MAX + 1)) == NULL)
		return hwg_error_set(err, HWG_E_NOMEM, "out of memory");
	rc = hwg_file_read_secret(path, pin->data, PIN_MAX + 1, &n, &ferr);
	if (rc != 0 && rc != HWG_E_TOO_LARGE) {
		hwg_secret_free(pin);
		return hwg_error_set(err, HWG_E_CONFIG, "PIN file %s", ferr.message);
	}
	if (rc == 0 && n > 0 && pin->data[n - 1] == '\n')
		n--;
	if (rc != 0 || n == 0 || n > PIN_MAX || memchr(pin->data, '\n', n) != NULL ||
	    memchr(pin->data, '\0', n) != NULL) {
		hwg_secret_free(pin);
		return hwg_error_set(err, HWG_E_CONFIG,
		                     "PIN file %s must hold one line of 1-%d bytes", path, PIN_MAX);
	}
	pin->data[n] = '\0';
	pin->len = n;
	*out = pin;
	return 0;
}

/* ---------------------------------------------------------------- module */

static int
module_attach(struct hwg_p11 *p, struct hwg_error *err)
{
	CK_C_INITIALIZE_ARGS init = {.flags = CKF_OS_LOCKING_OK};
	struct module_use *m = NULL, *unused = NULL;
	CK_RV rv;
	int rc = 0;

	pthread_mutex_lock(&modules_lock);
	for (size_t i = 0; i < MAX_MODULES; i++) {
		if (modules[i].users > 0 && modules[i].dl == p->dl)
			m = &modules[i];
		else if (modules[i].users == 0 && unused == NULL)
			unused = &modules[i];
	}
	if (m == NULL) {
		if (unused == NULL) {
			rc = hwg_error_set(err, HWG_E_INTERNAL, "more than %d PKCS#11 modules",
			                   MAX_MODULES);
			goto out;
		}
		rv = p->f->C_Initialize(&init);
		if (rv != CKR_OK && rv != CKR_CRYPTOKI_ALREADY_INITIALIZED) {
			rc = hwg_error_set(err, HWG_E_HSM, "C_Initialize of %s: %s", p->module,
			                   ckr_name(rv));
			goto out;
		}
		m = unused;
		m->dl = p->dl;
		m->finalize = rv == CKR_OK; /* someone else's initialisation is theirs to end */
	}
	m->users++;
	p->mod = m;
out:
	pthread_mutex_unlock(&modules_lock);
	return rc;
}

static void
module_detach(struct hwg_p11 *p)
{
	struct module_use *m = p->mod;
	int finalize;

	pthread_mutex_lock(&modules_lock);
	m->users--;
	finalize = m->users == 0 && m->finalize;
	if (p->session != CK_INVALID_HANDLE) {
		if (finalize)
			(void)p->f->C_Logout(p->session);
		(void)p->f->C_CloseSession(p->session);
		p->session = CK_INVALID_HANDLE;
	}
	if (finalize && !m->down)
		(void)p->f->C_Finalize(NULL);
	if (m->users == 0)
		memset(m, 0, sizeof(*m));
	p->mod = NULL;
	pthread_mutex_unlock(&modules_lock);
}

/* ---------------------------------------------------------------- session */

/*
 * The slot whose token is labelled p->token, looked up afresh each time:
 * slot ids may change when a token is re-inserted.  1 with *slot and *ti
 * set, 0 if no token has that label, a negative HWG_E_* on failure (two
 * tokens with our label included: which one we sign with is not a guess).
 */
static int
slot_by_label(struct hwg_p11 *p, CK_SLOT_ID *slot, CK_TOKEN_INFO *ti, struct hwg_error *err)
{
	CK_SLOT_ID *slots = NULL;
	CK_TOKEN_INFO cur;
	CK_ULONG n = 0;
	char label[33];
	CK_RV rv = CKR_GENERAL_ERROR;
	int found = 0;

	/* The count may grow between the two calls if a token arrives: ask again. */
	for (int tries = 0; tries < 3; tries++) {
		if ((rv = p->f->C_GetSlotList(CK_TRUE, NULL, &n)) != CKR_OK)
			break;
		if (n == 0)
			return 0;
		if (n > MAX_SLOTS)
			return hwg_error_set(err, HWG_E_HSM, "PKCS#11 module %s reports %lu slots",
			                     p->module, (unsigned long)n);
		free(slots);
		if ((slots = calloc(n, sizeof(*slots))) == NULL)
			return hwg_error_set(err, HWG_E_NOMEM, "out of memory");
		if ((rv = p->f->C_GetSlotList(CK_TRUE, slots, &n)) != CKR_BUFFER_TOO_SMALL)
			break;
	}
	if (rv != CKR_OK || n > MAX_SLOTS) {
		free(slots);
		return hwg_error_set(err, HWG_E_HSM, "C_GetSlotList of %s: %s", p->module,
		                     ckr_name(rv));
	}
	for (CK_ULONG i = 0; i < n; i++) {
		if (p->f->C_GetTokenInfo(slots[i], &cur) != CKR_OK)
			continue;
		trim_field(label, sizeof(label), cur.label, sizeof(cur.label));
		if (strcmp(label, p->token) != 0)
			continue;
		if (found) {
			free(slots);
			return hwg_error_set(
			    err, HWG_E_HSM,
			    "more than one token labelled \"%s\" in PKCS#11 module %s", p->token,
			    p->module);
		}
		found = 1;
		*slot = slots[i];
		*ti = cur;
	}
	free(slots);
	return found;
}

/* Forget our session; login state ends with it unless another handle shares the token. */
static void
session_drop(struct hwg_p11 *p)
{
	if (p->session != CK_INVALID_HANDLE) {
		(void)p->f->C_CloseSession(p->session);
		p->session = CK_INVALID_HANDLE;
	}
}

/* Find the token, open a read-only serial session and log in as the user. */
/*
 * Some modules (SoftHSM2 among them) list their tokens at C_Initialize
 * only, so a token that went away and came back is found again only
 * after a fresh initialisation.  Done only when this handle is the
 * module's sole user and initialised it itself: nobody else's sessions
 * end with it.  0 when re-initialised.
 */
static int
module_reinitialise(struct hwg_p11 *p)
{
	CK_C_INITIALIZE_ARGS init = {.flags = CKF_OS_LOCKING_OK};
	int rc = -1;

	pthread_mutex_lock(&modules_lock);
	if (p->mod != NULL && p->mod->users == 1 && p->mod->finalize &&
	    p->session == CK_INVALID_HANDLE) {
		if (!p->mod->down)
			(void)p->f->C_Finalize(NULL);
		/* SoftHSM2 refuses to initialise while its token directory is away */
		rc = p->f->C_Initialize(&init) == CKR_OK ? 0 : -1;
		p->mod->down = rc != 0;
	}
	pthread_mutex_unlock(&modules_lock);
	return rc;
}

static int
session_open(struct hwg_p11 *p, struct hwg_error *err)
{
	struct hwg_secret *pin = NULL;
	CK_SESSION_HANDLE s;
	CK_TOKEN_INFO ti;
	CK_SLOT_ID slot;
	CK_RV rv;
	int rc;

	if (p->pin_refused)
		return hwg_error_set(
		    err, HWG_E_HSM,
		    "token \"%s\" refused the PIN in %s before; not trying it again", p->token,
		    p->pin_file);
	if ((rc = slot_by_label(p, &slot, &ti, err)) <= 0 && module_reinitialise(p) == 0)
		rc = slot_by_label(p, &slot, &ti, err);
	if (rc < 0)
		return rc;
	if (rc == 0)
		return hwg_error_set(err, HWG_E_HSM,
		                     "no token labelled \"%s\" in PKCS#11 module %s", p->token,
		                     p->module);
	if ((rc = read_pin(p->pin_file, &pin, err)) != 0)
		return rc;
	if ((rv = p->f->C_OpenSession(slot, CKF_SERIAL_SESSION, NULL, NULL, &s)) != CKR_OK) {
		hwg_secret_free(pin);
		return hwg_error_set(err, HWG_E_HSM, "C_OpenSession on token \"%s\": %s", p->token,
		                     ckr_name(rv));
	}
	rv = p->f->C_Login(s, CKU_USER, (CK_UTF8CHAR_PTR)pin->data, pin->len);
	hwg_secret_free(pin);
	if (rv != CKR_OK && rv != CKR_USER_ALREADY_LOGGED_IN) {
		(void)p->f->C_CloseSession(s);
		if (pin_refusal(rv))
			p->pin_refused = 1;
		return hwg_error_set(err, HWG_E_HSM, "login refused by token \"%s\": %s", p->token,
		                     ckr_name(rv));
	}
	p->session = s;
	p->slot = slot;
	return 0;
}

/* ---------------------------------------------------------------- keys */

/* The object of class cls labelled label; *count is 0, 1 or 2 (more than one). */
static CK_RV
find_object(struct hwg_p11 *p, CK_OBJECT_CLASS cls, const char *label, CK_OBJECT_HANDLE *out,
            CK_ULONG *count)
{
	CK_ATTRIBUTE tmpl[] = {
	    {CKA_CLASS, &cls, sizeof(cls)},
	    {CKA_LABEL, (void *)(uintptr_t)label, strlen(label)},
	};
	CK_OBJECT_HANDLE h[2];
	CK_RV rv, fin;

	*count = 0;
	if ((rv = p->f->C_FindObjectsInit(p->session, tmpl, 2)) != CKR_OK)
		return rv;
	rv = p->f->C_FindObjects(p->session, h, 2, count);
	fin = p->f->C_FindObjectsFinal(p->session);
	if (rv == CKR_OK)
		rv = fin;
	if (rv != CKR_OK || *count > 2)
		*count = 0;
	if (*count > 0)
		*out = h[0];
	return rv;
}

/* One attribute into buf (cap bytes); *len its length, never more than cap. */
static CK_RV
get_attr(struct hwg_p11 *p, CK_OBJECT_HANDLE h, CK_ATTRIBUTE_TYPE type, void *buf, CK_ULONG cap,
         CK_ULONG *len)
{
	CK_ATTRIBUTE a = {type, buf, cap};
	CK_RV rv;

	*len = 0;
	if ((rv = p->f->C_GetAttributeValue(p->session, h, &a, 1)) != CKR_OK)
		return rv;
	if (a.ulValueLen == CK_UNAVAILABLE_INFORMATION || a.ulValueLen > cap)
		return CKR_GENERAL_ERROR;
	*len = a.ulValueLen;
	return CKR_OK;
}

static const uint8_t P256_OID[] = {0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07};
/* Ed25519 as modules spell CKA_EC_PARAMS: RFC 8410 OID, the name (SoftHSM2, OpenSC), GnuPG's OID */
static const uint8_t ED25519_OID[] = {0x06, 0x03, 0x2b, 0x65, 0x70};
static const uint8_t ED25519_NAME[] = {0x13, 0x0c, 'e', 'd', 'w', 'a', 'r',
                                       'd',  's',  '2', '5', '5', '1', '9'};
static const uint8_t ED25519_GNU_OID[] = {0x06, 0x09, 0x2b, 0x06, 0x01, 0x04,
                                          0x01, 0xda, 0x47, 0x0f, 0x01};

static int
bytes_eq(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
	return alen == blen && memcmp(a, b, alen) == 0;
}

/*
 * CKA_EC_POINT is specified as a DER OCTET STRING around the point
 * (04 41 04 X Y for P-256, 04 20 A for Ed25519); some modules return the
 * bare point.  The two are told apart by length alone, never by guessing
 * from the leading bytes: a bare point's second byte is just X's first.
 */
static const uint8_t *
ec_point(const uint8_t *v, CK_ULONG len, size_t want)
{
	if (len == want + 2 && v[0] == 0x04 && v[1] == want)
		return v + 2;
	if (len == want)
		return v;
	return NULL;
}

/* The public key from a P-256 uncompressed point (65 bytes) or an Ed25519 key (32). */
static EVP_PKEY *
build_public(int alg, const uint8_t *point)
{
	OSSL_PARAM_BLD *bld;
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	EVP_PKEY *pk = NULL;

	if (alg == HWG_COSE_EDDSA)
		return EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, point, 32);
	if (point[0] != 0x04 || (bld = OSSL_PARAM_BLD_new()) == NULL)
		return NULL;
	/* fromdata decodes the point and refuses one not on the curve; pk stays NULL then */
	if (OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0) &&
	    OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, point, 65) &&
	    (params = OSSL_PARAM_BLD_to_param(bld)) != NULL &&
	    (ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL)) != NULL &&
	    EVP_PKEY_fromdata_init(ctx) == 1)
		(void)EVP_PKEY_fromdata(ctx, &pk, EVP_PKEY_PUBLIC_KEY, params);
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	return pk;
}

/*
 * Find the key pair k's two halves in the current session and check
 * them: one object each, the same key type, P-256 or Ed25519, a point
 * OpenSSL accepts.
 * The first load fixes k->alg and k->pub (callers hold references to
 * both); a load after a re-open only refreshes the handle, and refuses a
 * token whose key under that label is no longer the same key.  *lost says
 * whether the failure was the session's, so that the caller may re-open.
 */
static int
pair_load(struct hwg_p11 *p, struct hwg_p11_key *k, int *lost, struct hwg_error *err)
{
	CK_OBJECT_HANDLE priv = CK_INVALID_HANDLE, pubh = CK_INVALID_HANDLE;
	CK_KEY_TYPE type = 0, pubtype = 0;
	CK_ULONG n_priv, n_pub, tlen, ptlen, plen, blen;
	uint8_t params[ATTR_MAX], point[ATTR_MAX];
	const uint8_t *raw;
	EVP_PKEY *pub;
	int alg;
	CK_RV rv;

	*lost = 0;
	if ((rv = find_object(p, CKO_PRIVATE_KEY, k->label, &priv, &n_priv)) != CKR_OK ||
	    (rv = find_object(p, CKO_PUBLIC_KEY, k->label, &pubh, &n_pub)) != CKR_OK)
		goto token_error;
	if (n_priv == 0 || n_pub == 0)
		return hwg_error_set(err, HWG_E_NOT_FOUND,
		                     "key \"%s\" not found in token \"%s\" (no %s key)", k->label,
		                     p->token, n_priv == 0 ? "private" : "public");
	if (n_priv > 1 || n_pub > 1)
		return hwg_error_set(err, HWG_E_HSM,
		                     "more than one %s key labelled \"%s\" in token \"%s\"",
		                     n_priv > 1 ? "private" : "public", k->label, p->token);
	if ((rv = get_attr(p, priv, CKA_KEY_TYPE, &type, sizeof(type), &tlen)) != CKR_OK ||
	    (rv = get_attr(p, pubh, CKA_KEY_TYPE, &pubtype, sizeof(pubtype), &ptlen)) != CKR_OK)
		goto token_error;
	if (tlen != sizeof(type) || ptlen != sizeof(pubtype) || type != pubtype ||
	    (type != CKK_EC && type != CKK_EC_EDWARDS))
		return hwg_error_set(err, HWG_E_HSM, "key \"%s\" is neither EC P-256 nor Ed25519",
		                     k->label);
	if ((rv = get_attr(p, pubh, CKA_EC_PARAMS, params, sizeof(params), &plen)) != CKR_OK ||
	    (rv = get_attr(p, pubh, CKA_EC_POINT, point, sizeof(point), &blen)) != CKR_OK)
		goto token_error;
	if (type == CKK_EC) {
		alg = HWG_COSE_ES256;
		if (!bytes_eq(params, plen, P256_OID, sizeof(P256_OID)))
			return hwg_error_set(err, HWG_E_HSM, "key \"%s\" is EC but not on P-256",
			                     k->label);
		raw = ec_point(point, blen, 65);
	} else {
		alg = HWG_COSE_EDDSA;
		if (!bytes_eq(params, plen, ED25519_OID, sizeof(ED25519_OID)) &&
		    !bytes_eq(params, plen, ED25519_NAME, sizeof(ED25519_NAME)) &&
		    !bytes_eq(params, plen, ED25519_GNU_OID, sizeof(ED25519_GNU_OID)))
			return hwg_error_set(err, HWG_E_HSM,
			                     "key \"%s\" is an Edwards key but not Ed25519",
			                     k->label);
		raw = ec_point(point, blen, 32);
	}
	if (raw == NULL || (pub = build_public(alg, raw)) == NULL)
		return hwg_error_set(err, HWG_E_HSM, "key \"%s\": public point not understood",
		                     k->label);
	if (k->pub == NULL) {
		k->alg = alg;
		k->pub = pub;
	} else {
		int same = alg == k->alg && EVP_PKEY_eq(k->pub, pub) == 1;

		EVP_PKEY_free(pub);
		if (!same)
			return hwg_error_set(
			    err, HWG_E_HSM,
			    "key \"%s\" in token \"%s\" is no longer the key found "
			    "at start; refusing to sign with it",
			    k->label, p->token);
	}
	k->handle = priv;
	return 0;
token_error:
	*lost = session_lost(rv);
	return hwg_error_set(err, HWG_E_HSM, "key \"%s\" in token \"%s\": %s", k->label, p->token,
	                     ckr_name(rv));
}

/* A boolean attribute; anything but one byte is the token's error. */
static CK_RV
get_bool(struct hwg_p11 *p, CK_OBJECT_HANDLE h, CK_ATTRIBUTE_TYPE type, CK_BBOOL *v)
{
	CK_ULONG len;
	CK_RV rv = get_attr(p, h, type, v, sizeof(*v), &len);

	if (rv == CKR_OK && len != sizeof(*v))
		rv = CKR_GENERAL_ERROR;
	return rv;
}

/*
 * What a sealing key must be, checked in this order.  Not sensitive: its
 * value could be read out.  Extractable: it could be wrapped out.  Not
 * private: anyone with a session could use it without the PIN.
 */
static const struct {
	CK_ATTRIBUTE_TYPE type;
	CK_BBOOL want;
	const char *why;
} secret_rules[] = {
    {CKA_ENCRYPT, CK_TRUE, "may not encrypt (CKA_ENCRYPT is false)"},
    {CKA_DECRYPT, CK_TRUE, "may not decrypt (CKA_DECRYPT is false)"},
    {CKA_SENSITIVE, CK_TRUE, "is not sensitive (CKA_SENSITIVE is false): its value can be read"},
    {CKA_EXTRACTABLE, CK_FALSE,
     "is extractable (CKA_EXTRACTABLE is true): it can be wrapped out of the token"},
    {CKA_PRIVATE, CK_TRUE,
     "is not private (CKA_PRIVATE is false): it can be used without logging in"},
};

/* The check value, or none (*len 0) when the module does not give one. */
static CK_RV
get_check_value(struct hwg_p11 *p, CK_OBJECT_HANDLE h, uint8_t check[CHECK_MAX], CK_ULONG *len)
{
	CK_RV rv = get_attr(p, h, CKA_CHECK_VALUE, check, CHECK_MAX, len);

	if (rv == CKR_ATTRIBUTE_TYPE_INVALID || rv == CKR_ATTRIBUTE_SENSITIVE) {
		*len = 0;
		rv = CKR_OK;
	}
	return rv;
}

/*
 * Find the secret key k in the current session and check it against
 * secret_rules.  There is no public half to tell a replaced key by, so the
 * first load records CKA_CHECK_VALUE (where the token gives one) and a
 * later load refuses a key whose check value changed: templates sealed
 * under the old key would otherwise all look tampered with.
 */
static int
secret_load(struct hwg_p11 *p, struct hwg_p11_key *k, int *lost, struct hwg_error *err)
{
	CK_OBJECT_HANDLE h = CK_INVALID_HANDLE, pair = CK_INVALID_HANDLE;
	CK_ULONG n, n_pair = 0, len, value_len = 0, check_len;
	uint8_t check[CHECK_MAX];
	CK_KEY_TYPE type = 0;
	CK_BBOOL v;
	CK_RV rv;

	*lost = 0;
	if ((rv = find_object(p, CKO_SECRET_KEY, k->label, &h, &n)) != CKR_OK)
		goto token_error;
	if (n == 0 && (rv = find_object(p, CKO_PRIVATE_KEY, k->label, &pair, &n_pair)) != CKR_OK)
		goto token_error;
	if (n == 0 && n_pair > 0)
		return hwg_error_set(
		    err, HWG_E_HSM,
		    "key \"%s\" in token \"%s\" is a key pair, not an AES secret key", k->label,
		    p->token);
	if (n == 0)
		return hwg_error_set(err, HWG_E_NOT_FOUND,
		                     "secret key \"%s\" not found in token \"%s\"", k->label,
		                     p->token);
	if (n > 1)
		return hwg_error_set(err, HWG_E_HSM,
		                     "more than one secret key labelled \"%s\" in token \"%s\"",
		                     k->label, p->token);
	if ((rv = get_attr(p, h, CKA_KEY_TYPE, &type, sizeof(type), &len)) != CKR_OK)
		goto token_error;
	if (len != sizeof(type) || type != CKK_AES)
		return hwg_error_set(err, HWG_E_HSM, "secret key \"%s\" is not an AES key",
		                     k->label);
	if ((rv = get_attr(p, h, CKA_VALUE_LEN, &value_len, sizeof(value_len), &len)) != CKR_OK)
		goto token_error;
	if (len != sizeof(value_len) || value_len != 32)
		return hwg_error_set(err, HWG_E_HSM, "secret key \"%s\" is AES-%lu, not AES-256",
		                     k->label, (unsigned long)value_len * 8);
	for (size_t i = 0; i < sizeof(secret_rules) / sizeof(secret_rules[0]); i++) {
		if ((rv = get_bool(p, h, secret_rules[i].type, &v)) != CKR_OK)
			goto token_error;
		if ((v != CK_FALSE) != (secret_rules[i].want != CK_FALSE))
			return hwg_error_set(err, HWG_E_HSM, "secret key \"%s\" %s; refusing it",
			                     k->label, secret_rules[i].why);
	}
	if ((rv = get_check_value(p, h, check, &check_len)) != CKR_OK)
		goto token_error;
	if (!k->loaded) {
		memcpy(k->check, check, check_len);
		k->check_len = check_len;
		k->loaded = 1;
	} else if (!bytes_eq(check, check_len, k->check, k->check_len)) {
		return hwg_error_set(err, HWG_E_HSM,
		                     "secret key \"%s\" in token \"%s\" is no longer the key found "
		                     "at start; refusing to use it",
		                     k->label, p->token);
	}
	k->handle = h;
	return 0;
token_error:
	*lost = session_lost(rv);
	return hwg_error_set(err, HWG_E_HSM, "secret key \"%s\" in token \"%s\": %s", k->label,
	                     p->token, ckr_name(rv));
}

static int
key_load(struct hwg_p11 *p, struct hwg_p11_key *k, int *lost, struct hwg_error *err)
{
	if (k->kind == KEY_SECRET)
		return secret_load(p, k, lost, err);
	return pair_load(p, k, lost, err);
}

/*
 * Rebuild after a loss: session, login, and every key handle (handles are
 * per session; a stale one might name another object).  Only the key the
 * caller needs (want, may be NULL) decides the result: another key that
 * cannot be found again keeps an invalid handle and tries on its next use.
 */
static int
reopen(struct hwg_p11 *p, struct hwg_p11_key *want, struct hwg_error *err)
{
	struct hwg_error ignored;
	int rc = 0, lost;
	unsigned busy;

	/* no signature may be under way on a signer's session while the module is re-initialised */
	do {
		busy = 0;
		for (unsigned i = 0; i < p->n_signers; i++)
			busy += p->signers[i].busy;
		if (busy > 0)
			pthread_cond_wait(&p->signer_freed, &p->lock);
	} while (busy > 0);
	session_drop(p);
	for (size_t i = 0; i < p->n_keys; i++)
		p->keys[i].handle = CK_INVALID_HANDLE;
	if ((rc = session_open(p, err)) != 0)
		return rc;
	p->reopens++;
	for (size_t i = 0; i < p->n_keys; i++) {
		struct hwg_p11_key *k = &p->keys[i];
		int krc = key_load(p, k, &lost, k == want ? err : &ignored);

		if (k == want)
			rc = krc;
	}
	return rc;
}

/* ---------------------------------------------------------------- API */

int
hwg_p11_open(const struct hwg_p11_config *cfg, struct hwg_p11 **out, struct hwg_error *err)
{
	CK_RV (*get_list)(CK_FUNCTION_LIST_PTR_PTR);
	struct hwg_p11 *p;
	int rc;

	if (cfg == NULL || cfg->module_path == NULL || cfg->token_label == NULL ||
	    cfg->pin_file == NULL)
		return hwg_error_set(err, HWG_E_CONFIG,
		                     "HSM module, token and PIN file must be set");
	if (cfg->module_path[0] != '/')
		return hwg_error_set(err, HWG_E_CONFIG, "PKCS#11 module path %s is not absolute",
		                     cfg->module_path);
	if (cfg->token_label[0] == '\0' || strlen(cfg->token_label) > 32)
		return hwg_error_set(err, HWG_E_CONFIG, "token label must be 1-32 bytes");
	if (strlen(cfg->module_path) >= sizeof(p->module) ||
	    strlen(cfg->pin_file) >= sizeof(p->pin_file))
		return hwg_error_set(err, HWG_E_CONFIG, "HSM module or PIN file path too long");
	if ((p = calloc(1, sizeof(*p))) == NULL)
		return hwg_error_set(err, HWG_E_NOMEM, "out of memory");
	if (pthread_mutex_init(&p->lock, NULL) != 0) {
		free(p);
		return hwg_error_set(err, HWG_E_INTERNAL, "pthread_mutex_init failed");
	}
	pthread_cond_init(&p->signer_freed, NULL);
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
		p->f = NULL;
		rc = hwg_error_set(err, HWG_E_HSM, "%s is not a PKCS#11 module", cfg->module_path);
		goto fail;
	}
	if ((rc = module_attach(p, err)) != 0 || (rc = session_open(p, err)) != 0)
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
	for (unsigned i = 0; i < p->n_signers; i++)
		if (p->signers[i].session != CK_INVALID_HANDLE)
			(void)p->f->C_CloseSession(p->signers[i].session);
	if (p->mod != NULL)
		module_detach(p);
	for (size_t i = 0; i < p->n_keys; i++)
		EVP_PKEY_free(p->keys[i].pub);
	if (p->dl != NULL)
		dlclose(p->dl);
	pthread_cond_destroy(&p->signer_freed);
	pthread_mutex_destroy(&p->lock);
	free(p);
}

/* A key of that kind by label: the one already known, or a new one loaded now. */
static int
key_find(struct hwg_p11 *p, enum key_kind kind, const char *label, struct hwg_p11_key **out,
         struct hwg_error *err)
{
	struct hwg_p11_key *k;
	int rc, lost;

	if (p == NULL || label == NULL || label[0] == '\0' || strlen(label) >= sizeof(k->label))
		return hwg_error_set(err, HWG_E_CONFIG, "key label must be 1-%zu bytes",
		                     sizeof(k->label) - 1);
	pthread_mutex_lock(&p->lock);
	for (size_t i = 0; i < p->n_keys; i++)
		if (p->keys[i].kind == kind && strcmp(p->keys[i].label, label) == 0) {
			*out = &p->keys[i];
			pthread_mutex_unlock(&p->lock);
			return 0;
		}
	if (p->n_keys == MAX_KEYS) {
		pthread_mutex_unlock(&p->lock);
		return hwg_error_set(err, HWG_E_INTERNAL, "more than %d HSM keys", MAX_KEYS);
	}
	k = &p->keys[p->n_keys];
	memset(k, 0, sizeof(*k));
	k->p11 = p;
	k->kind = kind;
	k->handle = CK_INVALID_HANDLE;
	snprintf(k->label, sizeof(k->label), "%s", label);
	if (p->session == CK_INVALID_HANDLE) {
		rc = -1;
		lost = 1;
	} else {
		rc = key_load(p, k, &lost, err);
	}
	if (rc != 0 && lost && (rc = reopen(p, NULL, err)) == 0)
		rc = key_load(p, k, &lost, err);
	if (rc == 0) {
		p->n_keys++;
		*out = k;
	} else {
		EVP_PKEY_free(k->pub);
		memset(k, 0, sizeof(*k));
	}
	pthread_mutex_unlock(&p->lock);
	return rc;
}

int
hwg_p11_key_find(struct hwg_p11 *p, const char *label, struct hwg_p11_key **out,
                 struct hwg_error *err)
{
	return key_find(p, KEY_PAIR, label, out, err);
}

int
hwg_p11_secret_find(struct hwg_p11 *p, const char *label, struct hwg_p11_key **out,
                    struct hwg_error *err)
{
	return key_find(p, KEY_SECRET, label, out, err);
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

/* One attempt, under p->lock.  *siglen is the length the token gave. */
static CK_RV
sign_once(struct hwg_p11 *p, struct hwg_p11_key *k, const uint8_t *data, size_t len,
          uint8_t buf[SIG_MAX], CK_ULONG *siglen)
{
	CK_MECHANISM mech = {k->alg == HWG_COSE_EDDSA ? CKM_EDDSA : CKM_ECDSA, NULL, 0};
	CK_RV rv;

	if (p->session == CK_INVALID_HANDLE)
		return CKR_SESSION_HANDLE_INVALID;
	if (k->handle == CK_INVALID_HANDLE)
		return CKR_KEY_HANDLE_INVALID;
	if ((rv = p->f->C_SignInit(p->session, &mech, k->handle)) != CKR_OK)
		return rv;
	*siglen = SIG_MAX;
	rv = p->f->C_Sign(p->session, (CK_BYTE_PTR)(uintptr_t)data, len, buf, siglen);
	/* CKR_BUFFER_TOO_SMALL leaves the operation active: a new session ends it. */
	if (rv == CKR_BUFFER_TOO_SMALL)
		session_drop(p);
	return rv;
}

/* With the lock held: a free signer's session, opened if it is none or of an older generation. */
static struct signer *
signer_take(struct hwg_p11 *p)
{
	struct signer *sg = NULL;

	while (sg == NULL) {
		for (unsigned i = 0; i < p->n_signers && sg == NULL; i++)
			if (!p->signers[i].busy)
				sg = &p->signers[i];
		if (sg == NULL)
			pthread_cond_wait(&p->signer_freed, &p->lock);
	}
	if (sg->session != CK_INVALID_HANDLE && sg->generation != p->reopens) {
		(void)p->f->C_CloseSession(sg->session);
		sg->session = CK_INVALID_HANDLE;
	}
	if (sg->session == CK_INVALID_HANDLE && p->session != CK_INVALID_HANDLE &&
	    p->f->C_OpenSession(p->slot, CKF_SERIAL_SESSION, NULL, NULL, &sg->session) != CKR_OK)
		sg->session = CK_INVALID_HANDLE; /* the caller signs on the main session */
	sg->generation = p->reopens;
	sg->busy = 1;
	return sg;
}

/* With the lock held: the signer back; a session that failed is closed, to be opened anew. */
static void
signer_give(struct hwg_p11 *p, struct signer *sg, CK_RV rv)
{
	if (rv != CKR_OK && sg->session != CK_INVALID_HANDLE) {
		(void)p->f->C_CloseSession(sg->session); /* an operation left active ends with it */
		sg->session = CK_INVALID_HANDLE;
	}
	sg->busy = 0;
	pthread_cond_broadcast(&p->signer_freed); /* a signer wanted, or reopen waiting for all */
}

/*
 * One attempt on a signer's session, without the lock: the module is
 * initialised with CKF_OS_LOCKING_OK and each session has one user.
 */
static CK_RV
sign_on(struct hwg_p11 *p, CK_SESSION_HANDLE session, int alg, CK_OBJECT_HANDLE key,
        const uint8_t *data, size_t len, uint8_t buf[SIG_MAX], CK_ULONG *siglen)
{
	CK_MECHANISM mech = {alg == HWG_COSE_EDDSA ? CKM_EDDSA : CKM_ECDSA, NULL, 0};
	CK_RV rv;

	if (session == CK_INVALID_HANDLE)
		return CKR_SESSION_HANDLE_INVALID;
	if (key == CK_INVALID_HANDLE)
		return CKR_KEY_HANDLE_INVALID;
	if ((rv = p->f->C_SignInit(session, &mech, key)) != CKR_OK)
		return rv;
	*siglen = SIG_MAX;
	return p->f->C_Sign(session, (CK_BYTE_PTR)(uintptr_t)data, len, buf, siglen);
}

/*
 * With the lock held: sign on a signer's session if there are signers
 * (the lock let go meanwhile); CKR_SESSION_HANDLE_INVALID when that could
 * not be done, so that the caller signs on the main session.
 */
static CK_RV
sign_by_signer(struct hwg_p11 *p, struct hwg_p11_key *k, const uint8_t *data, size_t len,
               uint8_t buf[SIG_MAX], CK_ULONG *siglen)
{
	struct signer *sg;
	CK_SESSION_HANDLE session;
	CK_OBJECT_HANDLE key = k->handle; /* handles are the application's, any session's */
	CK_RV rv;

	if (p->n_signers == 0)
		return CKR_SESSION_HANDLE_INVALID;
	sg = signer_take(p);
	session = sg->session;
	pthread_mutex_unlock(&p->lock);
	rv = sign_on(p, session, k->alg, key, data, len, buf, siglen);
	pthread_mutex_lock(&p->lock);
	signer_give(p, sg, rv);
	return rv;
}

int
hwg_p11_set_signers(struct hwg_p11 *p, unsigned n, struct hwg_error *err)
{
	if (p == NULL || n > HWG_P11_SIGNERS_MAX)
		return hwg_error_set(err, HWG_E_INVALID, "from 0 to %d signer sessions",
		                     HWG_P11_SIGNERS_MAX);
	pthread_mutex_lock(&p->lock);
	if (p->n_signers != 0) {
		pthread_mutex_unlock(&p->lock);
		return hwg_error_set(err, HWG_E_INVALID, "the signer sessions are set once");
	}
	p->n_signers = n; /* each is opened at its first use */
	pthread_mutex_unlock(&p->lock);
	return 0;
}

int
hwg_p11_sign(struct hwg_p11 *p, struct hwg_p11_key *k, const uint8_t *data, size_t len,
             uint8_t sig[64], struct hwg_error *err)
{
	uint8_t buf[SIG_MAX];
	CK_ULONG siglen = 0;
	CK_RV rv;
	int rc = 0;

	if (p == NULL || k == NULL || k->p11 != p || (data == NULL && len > 0))
		return hwg_error_set(err, HWG_E_INVALID, "hwg_p11_sign: bad arguments");
	if (k->kind != KEY_PAIR)
		return hwg_error_set(err, HWG_E_INVALID, "\"%s\" is a secret key; it does not sign",
		                     k->label);
	if (k->alg == HWG_COSE_ES256 && len != 32)
		return hwg_error_set(err, HWG_E_INVALID, "ES256 signs only 32-byte digests");
	pthread_mutex_lock(&p->lock);
	rv = sign_by_signer(p, k, data, len, buf, &siglen);
	/* no signers, none could be opened, or a loss: the main session, re-opened if need be */
	if (rv == CKR_SESSION_HANDLE_INVALID || session_lost(rv) || rv == CKR_KEY_HANDLE_INVALID) {
		rv = sign_once(p, k, data, len, buf, &siglen);
		if (session_lost(rv) && (rc = reopen(p, k, err)) == 0)
			rv = sign_once(p, k, data, len, buf, &siglen);
	}
	pthread_mutex_unlock(&p->lock);
	if (rc != 0)
		return rc;
	if (rv != CKR_OK)
		return hwg_error_set(err, HWG_E_HSM, "signing with \"%s\": %s", k->label,
		                     ckr_name(rv));
	if (siglen != 64)
		return hwg_error_set(err, HWG_E_HSM, "signing with \"%s\": %lu-byte signature",
		                     k->label, (unsigned long)siglen);
	memcpy(sig, buf, 64);
	return 0;
}

/* ---------------------------------------------------------------- AES-GCM */

static const uint8_t no_bytes[1]; /* what an empty input points at */

/* CK_GCM_PARAMS as p11-kit and SoftHSM2 2.6.1 declare it (with ulIvBits). */
static void
gcm_mechanism(CK_MECHANISM *m, CK_GCM_PARAMS *gcm, const uint8_t *iv, const uint8_t *aad,
              size_t aad_len)
{
	*gcm = (CK_GCM_PARAMS){
	    .iv_ptr = (CK_BYTE_PTR)(uintptr_t)iv,
	    .iv_len = HWG_P11_AEAD_IV,
	    .iv_bits = HWG_P11_AEAD_IV * 8,
	    .aad_ptr = (CK_BYTE_PTR)(uintptr_t)(aad_len > 0 ? aad : no_bytes),
	    .aad_len = aad_len,
	    .tag_bits = HWG_P11_AEAD_TAG * 8,
	};
	*m = (CK_MECHANISM){CKM_AES_GCM, gcm, sizeof(*gcm)};
}

/* The checks seal and open share; what names the call in messages. */
static int
aead_args(struct hwg_p11 *p, struct hwg_p11_key *k, const uint8_t *aad, size_t aad_len,
          const uint8_t *in, size_t in_len, const uint8_t *out, size_t *out_len, const char *what,
          struct hwg_error *err)
{
	if (p == NULL || k == NULL || k->p11 != p || (aad == NULL && aad_len > 0) ||
	    (in == NULL && in_len > 0) || out == NULL || out_len == NULL)
		return hwg_error_set(err, HWG_E_INVALID, "%s: bad arguments", what);
	if (k->kind != KEY_SECRET)
		return hwg_error_set(err, HWG_E_INVALID, "%s: \"%s\" is a signing key", what,
		                     k->label);
	if (aad_len > HWG_P11_AEAD_MAX)
		return hwg_error_set(err, HWG_E_INVALID, "%s: more than %d bytes of AAD", what,
		                     HWG_P11_AEAD_MAX);
	return 0;
}

/*
 * One attempt, under p->lock: sealed gets iv, then the token's ciphertext
 * and tag (*ct_len bytes after the IV; the caller checks the length).
 */
static CK_RV
seal_once(struct hwg_p11 *p, struct hwg_p11_key *k, const uint8_t iv[HWG_P11_AEAD_IV],
          const uint8_t *aad, size_t aad_len, const uint8_t *pt, size_t pt_len, uint8_t *sealed,
          CK_ULONG *ct_len)
{
	CK_GCM_PARAMS gcm;
	CK_MECHANISM mech;
	CK_RV rv;

	if (p->session == CK_INVALID_HANDLE)
		return CKR_SESSION_HANDLE_INVALID;
	if (k->handle == CK_INVALID_HANDLE)
		return CKR_KEY_HANDLE_INVALID;
	memcpy(sealed, iv, HWG_P11_AEAD_IV);
	gcm_mechanism(&mech, &gcm, sealed, aad, aad_len);
	if ((rv = p->f->C_EncryptInit(p->session, &mech, k->handle)) != CKR_OK)
		return rv;
	*ct_len = pt_len + HWG_P11_AEAD_TAG;
	rv = p->f->C_Encrypt(p->session, (CK_BYTE_PTR)(uintptr_t)(pt_len > 0 ? pt : no_bytes),
	                     pt_len, sealed + HWG_P11_AEAD_IV, ct_len);
	/* CKR_BUFFER_TOO_SMALL leaves the operation active: a new session ends it. */
	if (rv == CKR_BUFFER_TOO_SMALL)
		session_drop(p);
	return rv;
}

int
hwg_p11_aead_seal(struct hwg_p11 *p, struct hwg_p11_key *k, const uint8_t *aad, size_t aad_len,
                  const uint8_t *pt, size_t pt_len, uint8_t *out, size_t out_cap, size_t *out_len,
                  struct hwg_error *err)
{
	uint8_t ivs[2][HWG_P11_AEAD_IV]; /* one per attempt: a retry never reuses an IV */
	CK_ULONG ct_len = 0;
	uint8_t *sealed;
	size_t need;
	CK_RV rv;
	int rc;

	if ((rc = aead_args(p, k, aad, aad_len, pt, pt_len, out, out_len, "hwg_p11_aead_seal",
	                    err)) != 0)
		return rc;
	if (pt_len > HWG_P11_AEAD_MAX)
		return hwg_error_set(err, HWG_E_INVALID, "hwg_p11_aead_seal: more than %d bytes",
		                     HWG_P11_AEAD_MAX);
	need = pt_len + HWG_P11_AEAD_OVERHEAD;
	if (out_cap < need)
		return hwg_error_set(err, HWG_E_INVALID,
		                     "hwg_p11_aead_seal: %zu bytes of room for %zu sealed bytes",
		                     out_cap, need);
	if (RAND_bytes(&ivs[0][0], sizeof(ivs)) != 1)
		return hwg_error_set(err, HWG_E_INTERNAL, "no random bytes for a GCM IV");
	if ((sealed = malloc(need)) == NULL)
		return hwg_error_set(err, HWG_E_NOMEM, "out of memory");
	pthread_mutex_lock(&p->lock);
	rv = seal_once(p, k, ivs[0], aad, aad_len, pt, pt_len, sealed, &ct_len);
	if (session_lost(rv) && (rc = reopen(p, k, err)) == 0)
		rv = seal_once(p, k, ivs[1], aad, aad_len, pt, pt_len, sealed, &ct_len);
	pthread_mutex_unlock(&p->lock);
	if (rc == 0 && rv != CKR_OK)
		rc = hwg_error_set(err, HWG_E_HSM, "sealing with \"%s\": %s", k->label,
		                   ckr_name(rv));
	else if (rc == 0 && ct_len != pt_len + HWG_P11_AEAD_TAG)
		rc = hwg_error_set(err, HWG_E_HSM,
		                   "sealing with \"%s\": %lu bytes back for %zu bytes in", k->label,
		                   (unsigned long)ct_len, pt_len);
	if (rc == 0) {
		memcpy(out, sealed, need);
		*out_len = need;
	}
	free(sealed); /* IV, ciphertext and tag: nothing secret */
	return rc;
}

/*
 * One attempt, under p->lock: the token decrypts into plain, which has
 * room for the ciphertext and the tag (SoftHSM2 wants that much even
 * though it returns the plaintext only).  *decrypting says whether the
 * failure came from C_Decrypt, where a refusal is the tag's.
 */
static CK_RV
open_once(struct hwg_p11 *p, struct hwg_p11_key *k, const uint8_t *aad, size_t aad_len,
          const uint8_t *in, size_t in_len, uint8_t *plain, CK_ULONG *plain_len, int *decrypting)
{
	CK_GCM_PARAMS gcm;
	CK_MECHANISM mech;
	CK_RV rv;

	*decrypting = 0;
	if (p->session == CK_INVALID_HANDLE)
		return CKR_SESSION_HANDLE_INVALID;
	if (k->handle == CK_INVALID_HANDLE)
		return CKR_KEY_HANDLE_INVALID;
	gcm_mechanism(&mech, &gcm, in, aad, aad_len);
	if ((rv = p->f->C_DecryptInit(p->session, &mech, k->handle)) != CKR_OK)
		return rv;
	*decrypting = 1;
	*plain_len = in_len - HWG_P11_AEAD_IV;
	rv = p->f->C_Decrypt(p->session, (CK_BYTE_PTR)(uintptr_t)(in + HWG_P11_AEAD_IV),
	                     in_len - HWG_P11_AEAD_IV, plain, plain_len);
	if (rv == CKR_BUFFER_TOO_SMALL)
		session_drop(p);
	return rv;
}

int
hwg_p11_aead_open(struct hwg_p11 *p, struct hwg_p11_key *k, const uint8_t *aad, size_t aad_len,
                  const uint8_t *in, size_t in_len, uint8_t *out, size_t out_cap, size_t *out_len,
                  struct hwg_error *err)
{
	struct hwg_secret *plain;
	CK_ULONG plain_len = 0;
	size_t pt_len;
	int rc, decrypting;
	CK_RV rv;

	if ((rc = aead_args(p, k, aad, aad_len, in, in_len, out, out_len, "hwg_p11_aead_open",
	                    err)) != 0)
		return rc;
	if (in_len < HWG_P11_AEAD_OVERHEAD)
		return hwg_error_set(err, HWG_E_TAMPERED,
		                     "sealed data of %zu bytes is shorter than IV and tag", in_len);
	pt_len = in_len - HWG_P11_AEAD_OVERHEAD;
	if (pt_len > HWG_P11_AEAD_MAX)
		return hwg_error_set(err, HWG_E_INVALID, "hwg_p11_aead_open: more than %d bytes",
		                     HWG_P11_AEAD_MAX);
	if (out_cap < pt_len)
		return hwg_error_set(err, HWG_E_INVALID,
		                     "hwg_p11_aead_open: %zu bytes of room for %zu plaintext bytes",
		                     out_cap, pt_len);
	if ((plain = hwg_secret_new(in_len - HWG_P11_AEAD_IV)) == NULL)
		return hwg_error_set(err, HWG_E_NOMEM, "out of memory");
	pthread_mutex_lock(&p->lock);
	rv = open_once(p, k, aad, aad_len, in, in_len, (uint8_t *)plain->data, &plain_len,
	               &decrypting);
	if (session_lost(rv) && (rc = reopen(p, k, err)) == 0)
		rv = open_once(p, k, aad, aad_len, in, in_len, (uint8_t *)plain->data, &plain_len,
		               &decrypting);
	pthread_mutex_unlock(&p->lock);
	if (rc == 0 && rv != CKR_OK && decrypting && open_refused(rv))
		rc = hwg_error_set(err, HWG_E_TAMPERED,
		                   "sealed data does not open with \"%s\" (the token says %s): "
		                   "changed, or sealed with other AAD or another key",
		                   k->label, ckr_name(rv));
	else if (rc == 0 && rv != CKR_OK)
		rc = hwg_error_set(err, HWG_E_HSM, "opening with \"%s\": %s", k->label,
		                   ckr_name(rv));
	else if (rc == 0 && plain_len != pt_len)
		rc = hwg_error_set(err, HWG_E_HSM,
		                   "opening with \"%s\": %lu bytes back for %zu expected", k->label,
		                   (unsigned long)plain_len, pt_len);
	if (rc == 0) {
		memcpy(out, plain->data, pt_len);
		*out_len = pt_len;
	}
	hwg_secret_free(plain); /* wipes whatever the token wrote, on failure too */
	return rc;
}

int
hwg_p11_token_info(struct hwg_p11 *p, struct hwg_p11_token_info *out, struct hwg_error *err)
{
	CK_SESSION_INFO si;
	CK_TOKEN_INFO ti;
	CK_SLOT_ID slot;
	int rc;

	memset(out, 0, sizeof(*out));
	pthread_mutex_lock(&p->lock);
	rc = slot_by_label(p, &slot, &ti, err);
	if (rc == 1) {
		out->present = 1;
		trim_field(out->label, sizeof(out->label), ti.label, sizeof(ti.label));
		trim_field(out->manufacturer, sizeof(out->manufacturer), ti.manufacturerID,
		           sizeof(ti.manufacturerID));
		trim_field(out->model, sizeof(out->model), ti.model, sizeof(ti.model));
		trim_field(out->serial, sizeof(out->serial), ti.serialNumber,
		           sizeof(ti.serialNumber));
	}
	out->logged_in = p->session != CK_INVALID_HANDLE &&
	                 p->f->C_GetSessionInfo(p->session, &si) == CKR_OK &&
	                 (si.state == CKS_RO_USER_FUNCTIONS || si.state == CKS_RW_USER_FUNCTIONS);
	out->session_reopens = p->reopens;
	out->signer_sessions = 0;
	for (unsigned i = 0; i < p->n_signers; i++)
		out->signer_sessions += p->signers[i].session != CK_INVALID_HANDLE;
	pthread_mutex_unlock(&p->lock);
	return rc < 0 ? rc : 0;
}

void
hwg_p11_test_drop_session(struct hwg_p11 *p)
{
	pthread_mutex_lock(&p->lock);
	if (p->session != CK_INVALID_HANDLE)
		(void)p->f->C_CloseSession(p->session);
	pthread_mutex_unlock(&p->lock);
}
