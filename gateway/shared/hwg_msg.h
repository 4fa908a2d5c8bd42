/*
 * hwg_msg.h — the one internal framing between hwgwd's two processes
 * (privilege separation, gateway/README.md): the net process, which reads
 * client bytes, and the privileged one, which holds the store, the HSM
 * and the devices.
 *
 * A message is a 9-byte header (u32be body length, u8 type, u32be
 * request id) and a body of at most HWG_MSG_MAX bytes, built and read
 * only through hwg_buf.  A receiver names the types it expects; any other
 * type, a length over the maximum, a body not consumed to the last byte
 * or a short read is fatal for that peer (the privileged process kills
 * and restarts the net process; the net process exits).
 */
#ifndef HWG_MSG_H
#define HWG_MSG_H

#include <stddef.h>
#include <stdint.h>

#include "hwg_buf.h"
#include "hwg_err.h"
#include "hwg_verify.h"

/*
 * The net process's descriptors, as the privileged process passes them
 * (priv/hwg_netchild.c) and the net process expects them (net/hwgw_net.c).
 */
#define HWG_NET_LINK_FD 3
#define HWG_NET_UNIX_FD 4
#define HWG_NET_HTTP_FD 5

#define HWG_MSG_HEADER_LEN 9
/* the largest request body ([api] max_body at most 16 MiB) plus its verdict */
#define HWG_MSG_MAX (16u * 1024 * 1024 + 64 * 1024)

enum hwg_msg_type {
	HWG_MSG_CLIENTS = 1, /* privileged -> net: the client registry (hwg_clients_export) */
	HWG_MSG_VERDICT = 2, /* net -> privileged: a verified request, or a refusal */
	HWG_MSG_REPLY = 3,   /* privileged -> net: the signed response for a verdict's id */
};
#define HWG_MSG_BIT(t) (1u << (t))

/* Send one message (whole, under the caller's write lock); HWG_E_IO. */
int hwg_msg_send(int fd, uint8_t type, uint32_t id, const struct hwg_buf *body,
                 struct hwg_error *err);
/*
 * Receive one message whose type is in expect (HWG_MSG_BIT mask): *body
 * is a new buffer with exactly its bytes.  1 on a clean end of stream
 * before a header, 0 on a message, HWG_E_IO / HWG_E_BAD_ENCODING /
 * HWG_E_TOO_LARGE otherwise.
 */
int hwg_msg_recv(int fd, unsigned expect, uint8_t *type, uint32_t *id, struct hwg_buf **body,
                 struct hwg_error *err);

/*
 * A verdict: the peer (transport, uid), the request hash, the refusal
 * code and message (0, "" when every check passed), what the request
 * said (client, op, audience, time, nonce, session token, the arguments
 * re-encoded as CBOR after the schema check) and, for a passed verdict
 * only, the msg_len bytes the client sent (msg), which the privileged
 * process checks again itself (hwg_reverify).
 */
int hwg_msg_verdict_encode(const struct hwg_peer *peer, const struct hwg_verdict *v,
                           const uint8_t *msg, size_t msg_len, struct hwg_buf *b);
/*
 * Decode into peer (transport points to a static string), v (op resolved
 * by name; a passed verdict naming no known operation, with arguments
 * that are not one definite map, or without the client's bytes, and a
 * refusal with them, are HWG_E_BAD_ENCODING) and *msg, *msg_len (the
 * client's bytes: a view into b, valid while b is).  The client entry is
 * not carried.  Release v with hwg_verdict_clear, on failure too.
 */
int hwg_msg_verdict_decode(struct hwg_buf *b, struct hwg_peer *peer, struct hwg_verdict *v,
                           const uint8_t **msg, size_t *msg_len, struct hwg_error *err);

/*
 * A reply: the code, the privileged process's stage times (struct
 * hwg_priv_stages) and the signed response bytes (none: no response could
 * be signed).
 */
int hwg_msg_reply_encode(int rc, const struct hwg_reply *r, struct hwg_buf *b);
int hwg_msg_reply_decode(struct hwg_buf *b, int *rc, struct hwg_reply *r, struct hwg_error *err);

#endif
