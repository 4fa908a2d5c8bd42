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

/*
 * A request's stages: the transport's read up to t0, verify to t1, and
 * the privileged process's round trip to t2, less what it reported.
 */
static void
record_stages(struct hwg_metrics *m, const struct hwg_peer *peer, double t0, double t1,
              double t2, const struct hwg_priv_stages *ps)
{
	double priv = (ps->reverify_us + (double)ps->execute_us + ps->commit_us + ps->sign_us) / 1e6;
	double hop = t2 - t1 - priv;

	hwg_metrics_stage(m, peer->transport, HWG_STAGE_TRANSPORT,
	                  peer->arrived > 0 && peer->arrived <= t0 ? t0 - peer->arrived : 0);
	hwg_metrics_stage(m, peer->transport, HWG_STAGE_VERIFY, t1 - t0);
	hwg_metrics_stage(m, peer->transport, HWG_STAGE_HOP, hop > 0 ? hop : 0);
	hwg_metrics_stage(m, peer->transport, HWG_STAGE_REVERIFY, ps->reverify_us / 1e6);
	hwg_metrics_stage(m, peer->transport, HWG_STAGE_EXECUTE, ps->execute_us / 1e6);
	hwg_metrics_stage(m, peer->transport, HWG_STAGE_COMMIT, ps->commit_us / 1e6);
	hwg_metrics_stage(m, peer->transport, HWG_STAGE_SIGN, ps->sign_us / 1e6);
}

static int
checked_handle(void *arg, const struct hwg_peer *peer, const uint8_t *msg, size_t len,
               struct hwg_reply *out)
{
	struct hwg_front_checks *c = arg;
	struct hwg_verdict v;
	double t0 = hwg_mono_seconds(), t1, t2;
	int rc;

	hwg_verify(c->cfg, c->clients, peer, msg, len, &v);
	t1 = hwg_mono_seconds();
	rc = c->then(c->arg, peer, &v, msg, len, out);
	t2 = hwg_mono_seconds();
	hwg_metrics_record(c->metrics, v.op != NULL ? v.op->name : NULL,
	                   rc == 0 ? out->code : HWG_E_HSM, t2 - t0);
	record_stages(c->metrics, peer, t0, t1, t2, &out->stages);
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
