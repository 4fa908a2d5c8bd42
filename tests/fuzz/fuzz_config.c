/*
 * fuzz_config.c — libFuzzer target for hwgwd.conf (gateway/shared/hwg_config.c):
 * the input, up to its first NUL, is the configuration text given to
 * hwg_config_parse_string over the defaults, as hwg_config_load does with
 * a file's text.  Nothing may crash or leak (the config is cleared each
 * round, accepted or not), a refusal is HWG_E_CONFIG naming the file, and
 * an accepted configuration must satisfy what the gateway then relies on
 * without looking again: the required settings present, every list
 * within its array, every number within its documented range.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hwg_config.h"
#include "hwg_log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NAME "fuzz.conf"

static void
check_accepted(const struct hwg_config *c)
{
	if (c->gateway_id == NULL || c->gateway_id[0] == '\0' || strlen(c->gateway_id) > 64 ||
	    c->state_dir == NULL || c->state_dir[0] != '/' || c->hsm_module == NULL ||
	    c->hsm_token == NULL || c->hsm_pin_file == NULL)
		abort();
	if ((c->socket_path == NULL || c->socket_path[0] == '\0') &&
	    (c->http_listen == NULL || c->http_listen[0] == '\0'))
		abort();
	if (c->n_origins > HWG_MAX_ORIGINS || c->vein_n_usb_ids == 0 ||
	    c->vein_n_usb_ids > HWG_MAX_USB_IDS)
		abort();
	for (size_t i = 0; i < c->n_origins; i++)
		if (c->origins[i] == NULL || strchr(c->origins[i], '*') != NULL)
			abort();
	if (c->max_body < 1024 || c->max_body > 16 * 1024 * 1024 || c->clock_skew_ms < 1000 ||
	    c->clock_skew_ms > 3600 * 1000 || (!c->alg_es256 && !c->alg_eddsa) ||
	    (c->socket_mode & 0007) != 0 || c->socket_mode > 0777 || c->http_port > 65535 ||
	    c->max_connections < 1 || c->connection_timeout_s < 1 || c->max_age_ms < 1000 ||
	    c->max_age_ms > 3600 * 1000 || c->header_timeout_s < 1 ||
	    c->header_timeout_s > c->request_timeout_s || c->max_connections_per_peer < 1 ||
	    c->max_connections_per_peer > c->max_connections || c->max_connections_per_uid < 1 ||
	    c->max_connections_per_uid > c->max_connections)
		abort();
	if (c->log_level < HWG_LOG_DEBUG || c->log_level > HWG_LOG_ERR ||
	    (c->card_roots == NULL) != (c->card_crls == NULL) || c->card_timeout_ms < 100 ||
	    c->card_timeout_ms > 600000 ||
	    !(c->vein_threshold >= 0.0 && c->vein_threshold <= 1.0) || c->vein_min_quality < 0 ||
	    c->vein_min_quality > 100 || c->vein_min_liveness < 0 || c->vein_min_liveness > 100 ||
	    c->vein_capture_timeout_ms < 100 || c->vein_capture_timeout_ms > 60000)
		abort();
	if (c->operator_session_idle_s > c->operator_session_max_s ||
	    c->operator_session_idle_s < 1 || c->operator_max_failures < 1 ||
	    c->operator_max_failures > 100 || c->checkpoint_every < 1 ||
	    c->checkpoint_interval_s < 1)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hwg_config c;
	struct hwg_error err = {0};
	char *text = malloc(size + 1);
	int rc;

	if (text == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	hwg_config_defaults(&c);
	rc = hwg_config_parse_string(text, NAME, &c, &err);
	if (rc == 0)
		check_accepted(&c);
	else if (rc != HWG_E_CONFIG || strncmp(err.message, NAME, strlen(NAME)) != 0)
		abort();
	hwg_config_clear(&c);
	free(text);
	return 0;
}
