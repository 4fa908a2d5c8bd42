/*
 * hwg_ids.h — the sizes of the identifiers that cross the boundary
 * between the gateway's processes (operator ids, terminal serials,
 * session tokens): the net process checks them in a request's schema,
 * the state library stores them, operations handle them; issuance
 * numbers and resident codes likewise.  One header so
 * that the three agree without including each other.
 */
#ifndef HWG_IDS_H
#define HWG_IDS_H

#define HWG_OPERATOR_ID_MAX 64
#define HWG_TERMINAL_ID_MAX 32  /* a terminal's serial, as GET_INFO reports it */
#define HWG_TERMINAL_KEY_LEN 32 /* raw Ed25519 device public key */
#define HWG_SESSION_TOKEN_MIN 16
#define HWG_SESSION_TOKEN_MAX 64
/* issuance numbers (state/hwg_issuance.h): gateway id, '-', YYYYMMDD, '-', the sequence */
#define HWG_ISSUANCE_GATEWAY_ID_MAX 64
#define HWG_ISSUANCE_NO_MAX (HWG_ISSUANCE_GATEWAY_ID_MAX + 1 + 8 + 1 + 19)
#define HWG_ISSUANCE_REQUEST_ID_MAX 64 /* a client's own id of an issuance */
#define HWG_ISSUANCE_TEXT_MAX 200      /* failure message, reprint reason, resolution note */
#define HWG_RESIDENT_CODE_LEN 11       /* 住民票コード: 11 digits */

/* 1 if id is 1..64 of [A-Za-z0-9._-] (the alphabet and length of client ids). */
int hwg_operator_id_valid(const char *id);

#endif
