/*
 * hwg_card_service.c — the gateway's card service (see hwg_card_service.h).
 */
#include "hwg_card_service.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hwg_file.h"
#include "hwg_secret.h"
#include "hwg_x509.h"

#define SUBJECT_KEY_FILE "subject.key"
#define SUBJECT_KEY_LEN 32

struct hwg_card_service {
	struct hwg_pcsc *pcsc;
	struct hwg_x509_trust *trust;
	EVP_PKEY *integrity_key;
	uint8_t subject_key[SUBJECT_KEY_LEN];
};

int
hwg_subject_key_load(const char *state_dir, uint8_t key[SUBJECT_KEY_LEN], struct hwg_error *err)
{
	char path[4096];
	struct hwg_error ferr = {0};
	size_t n = 0;
	int fd, rc = 0;

	snprintf(path, sizeof(path), "%s/%s", state_dir, SUBJECT_KEY_FILE);
	rc = hwg_file_read_secret(path, key, SUBJECT_KEY_LEN, &n, &ferr);
	if (rc == 0 && n == SUBJECT_KEY_LEN)
		return 0;
	if (rc == 0 || rc == HWG_E_TOO_LARGE) {
		hwg_wipe(key, SUBJECT_KEY_LEN);
		return hwg_error_set(err, HWG_E_CONFIG, "%s must be a 0600 file of %d bytes", path,
		                     SUBJECT_KEY_LEN);
	}
	if (rc != HWG_E_NOT_FOUND)
		return hwg_error_set(err, HWG_E_CONFIG, "subject key %s", ferr.message);
	rc = 0;
	if (RAND_bytes(key, SUBJECT_KEY_LEN) != 1)
		return hwg_error_set(err, HWG_E_INTERNAL, "no randomness for the subject key");
	if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600)) < 0)
		return hwg_error_set(err, HWG_E_CONFIG, "cannot create %s: %s", path,
		                     strerror(errno));
	if (write(fd, key, SUBJECT_KEY_LEN) != SUBJECT_KEY_LEN || fsync(fd) != 0)
		rc = hwg_error_set(err, HWG_E_IO, "cannot write %s: %s", path, strerror(errno));
	close(fd);
	if (rc != 0)
		unlink(path);
	return rc;
}

static int
load_integrity_key(const char *path, EVP_PKEY **out, struct hwg_error *err)
{
	FILE *f = fopen(path, "re");

	*out = NULL;
	if (f == NULL)
		return hwg_error_set(err, HWG_E_CONFIG, "[card] integrity_key: cannot open %s: %s",
		                     path, strerror(errno));
	*out = PEM_read_PUBKEY(f, NULL, NULL, NULL);
	fclose(f);
	if (*out == NULL || EVP_PKEY_get_base_id(*out) != EVP_PKEY_RSA) {
		EVP_PKEY_free(*out);
		*out = NULL;
		return hwg_error_set(err, HWG_E_CONFIG,
		                     "[card] integrity_key: %s is not a PEM RSA public key", path);
	}
	return 0;
}

int
hwg_card_service_open(const struct hwg_config *cfg, hwg_pcsc_event_fn on_event, void *arg,
                      struct hwg_card_service **out, struct hwg_error *err)
{
	struct hwg_card_service *c;
	int rc = 0;

	*out = NULL;
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return hwg_error_set(err, HWG_E_NOMEM, "out of memory");
	rc = hwg_subject_key_load(cfg->state_dir, c->subject_key, err);
	if (rc == 0 && cfg->card_roots != NULL)
		rc = hwg_x509_trust_load(cfg->card_roots, cfg->card_crls, cfg->card_crl_grace_s,
		                         &c->trust, err);
	if (rc == 0 && cfg->card_integrity_key != NULL)
		rc = load_integrity_key(cfg->card_integrity_key, &c->integrity_key, err);
	if (rc == 0 && cfg->card_enabled)
		rc = hwg_pcsc_open(on_event, arg, &c->pcsc, err);
	if (rc != 0) {
		hwg_card_service_close(c);
		return rc;
	}
	*out = c;
	return 0;
}

void
hwg_card_service_close(struct hwg_card_service *c)
{
	if (c == NULL)
		return;
	hwg_pcsc_close(c->pcsc);
	hwg_x509_trust_free(c->trust);
	EVP_PKEY_free(c->integrity_key);
	hwg_wipe(c->subject_key, sizeof(c->subject_key));
	free(c);
}

struct hwg_pcsc *
hwg_card_service_pcsc(struct hwg_card_service *c)
{
	return c->pcsc;
}

const struct hwg_x509_trust *
hwg_card_service_trust(const struct hwg_card_service *c)
{
	return c->trust;
}

EVP_PKEY *
hwg_card_service_integrity_key(const struct hwg_card_service *c)
{
	return c->integrity_key;
}

int
hwg_card_service_mynumber_subject(const struct hwg_card_service *c, const char *mynumber,
                                  char out[HWG_SUBJECT_MAX], struct hwg_error *err)
{
	uint8_t mac[EVP_MAX_MD_SIZE];
	unsigned mac_len = 0;
	int n;

	if (HMAC(EVP_sha256(), c->subject_key, sizeof(c->subject_key), (const uint8_t *)mynumber,
	         strlen(mynumber), mac, &mac_len) == NULL)
		return hwg_error_set(err, HWG_E_INTERNAL, "HMAC failed");
	n = snprintf(out, HWG_SUBJECT_MAX, "mn:");
	for (int i = 0; i < 16; i++)
		n += snprintf(out + n, (size_t)(HWG_SUBJECT_MAX - n), "%02x", mac[i]);
	hwg_wipe(mac, sizeof(mac));
	return 0;
}
