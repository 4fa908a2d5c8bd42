/*
 * hwg_checkpoint.c — see hwg_checkpoint.h.
 */
#include "hwg_checkpoint.h"

#include <openssl/sha.h>
#include <string.h>

#include "hwg_buf.h"
#include "hwg_err.h"

static const char CHECKPOINT_DOMAIN[] = "hwgw-audit-checkpoint-v1";

int
hwg_audit_checkpoint_digest(int64_t seq, const uint8_t hash[HWG_AUDIT_HASH_LEN], int64_t time_ms,
                            uint8_t digest[32])
{
	struct hwg_buf *b = hwg_buf_new(sizeof(CHECKPOINT_DOMAIN) + 8 + HWG_AUDIT_HASH_LEN + 8);
	int rc = HWG_E_NOMEM;

	if (b != NULL && hwg_buf_put(b, CHECKPOINT_DOMAIN, sizeof(CHECKPOINT_DOMAIN) - 1) == 0 &&
	    hwg_buf_put_u64be(b, (uint64_t)seq) == 0 &&
	    hwg_buf_put(b, hash, HWG_AUDIT_HASH_LEN) == 0 &&
	    hwg_buf_put_u64be(b, (uint64_t)time_ms) == 0) {
		SHA256(hwg_buf_ptr(b), hwg_buf_len(b), digest);
		rc = HWG_OK;
	}
	hwg_buf_free(b);
	return rc;
}
