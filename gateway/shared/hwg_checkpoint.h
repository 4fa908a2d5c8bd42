/*
 * hwg_checkpoint.h — what an audit checkpoint signs.  Its own module
 * because two processes compute it: the keyholder, which signs it with
 * the audit key (so the key never signs a digest its caller chose), and
 * the audit verifier (state/hwg_audit.c).
 */
#ifndef HWG_CHECKPOINT_H
#define HWG_CHECKPOINT_H

#include <stdint.h>

#define HWG_AUDIT_HASH_LEN 32

/* SHA-256("hwgw-audit-checkpoint-v1" || u64be seq || hash || u64be time_ms). */
int hwg_audit_checkpoint_digest(int64_t seq, const uint8_t hash[HWG_AUDIT_HASH_LEN],
                                int64_t time_ms, uint8_t digest[32]);

#endif
