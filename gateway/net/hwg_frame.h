/*
 * hwg_frame.h — the Unix socket's framing without the socket: a 4-byte
 * big-endian length, then that many bytes (one request, or one reply).
 *
 * The transport reads whatever the peer sends and feeds it here; this
 * part checks the length against the limit before any body byte is
 * taken, accumulates the body (in an hwg_buf, wiped when freed: requests
 * carry PINs), and hands out one complete frame.  It never takes a byte
 * past the frame's end, and says how many it still needs, so that the
 * transport can read exactly that and leave the next frame in the socket.
 * No I/O, no clock, no logging: fuzz_unix_frame drives it directly.
 */
#ifndef HWG_FRAME_H
#define HWG_FRAME_H

#include <stddef.h>
#include <stdint.h>

#include "hwg_buf.h"
#include "hwg_err.h"

#define HWG_FRAME_HEADER_LEN 4

struct hwg_frame_in {
	size_t max; /* the largest body accepted */
	uint8_t header[HWG_FRAME_HEADER_LEN];
	size_t header_got;    /* header bytes taken so far */
	size_t len;           /* the body's length, once the header is complete */
	struct hwg_buf *body; /* NULL until the header is complete and accepted */
};

/* Ready for a frame whose body may be at most max bytes. */
void hwg_frame_in_init(struct hwg_frame_in *f, size_t max);
/*
 * Bytes the frame still needs: the rest of the header, else the rest of
 * the body.  0 once the frame is complete.
 */
size_t hwg_frame_in_want(const struct hwg_frame_in *f);
/*
 * Take up to n bytes of p; *used is set to how many were taken (never
 * past the frame's end).  Returns 0 while more are needed, 1 when the
 * frame is complete (its body is hwg_buf_ptr(f->body), f->len bytes),
 * HWG_E_TOO_LARGE when the header claims more than max ("frame of N
 * bytes over the limit of M"; no body byte is taken), HWG_E_NOMEM.  After
 * 1 or an error, feeding again is HWG_E_INVALID until hwg_frame_in_reset.
 */
int hwg_frame_in_feed(struct hwg_frame_in *f, const uint8_t *p, size_t n, size_t *used,
                      struct hwg_error *err);
/* Wipe and free the body, ready for the next frame with the same limit. */
void hwg_frame_in_reset(struct hwg_frame_in *f);

#endif
