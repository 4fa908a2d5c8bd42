/*
 * hwg_front.c — the front both halves of hwgwd build on (see
 * hwg_front.h): check, hand over, count; written once so that the net
 * process and the in-process composition cannot drift apart.
 */
#include "hwg_front.h"

#include <openssl/sha.h>
#include <stdio.h>
#include <string.h>

#include "hwg_time.h"

static int
checked_handle(void *arg, const struct hwg_peer *peer, const uint8_t *msg, size_t len,
               struct hwg_reply *out)
{
	struct hwg_front_checks *c = arg;
	struct hwg_verdict v;
	double t0 = hwg_mono_seconds();
	int rc;

	hwg_verify(c->cfg, c->clients, peer, msg, len, &v);
	rc = c->then(c->arg, peer, &v, msg, len, out);
	hwg_metrics_record(c->metrics, v.op != NULL ? v.op->name : NULL,
	                   rc == 0 ? out->code : HWG_E_HSM, hwg_mono_seconds() - t0);
	hwg_verdict_clear(&v);
	return rc;
}

static int
checked_refuse(void *arg, const struct hwg_peer *peer, int code, const char *message,
               struct hwg_reply *out)
{
	struct hwg_front_checks *c = arg;
	struct hwg_verdict v;
	int rc;

	memset(&v, 0, sizeof(v));
	SHA256((const uint8_t *)"", 0, v.req_hash);
	v.code = code;
	v.tries_left = -1;
	snprintf(v.message, sizeof(v.message), "%s", message);
	rc = c->then(c->arg, peer, &v, NULL, 0, out);
	hwg_metrics_record(c->metrics, NULL, rc == 0 ? out->code : HWG_E_HSM, 0);
	return rc;
}

void
hwg_front_init(struct hwg_front *front, struct hwg_front_checks *checks)
{
	*front = (struct hwg_front){checked_handle, checked_refuse, checks, checks->metrics};
}
