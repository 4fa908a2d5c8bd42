/*
 * hwg_frame.c — see hwg_frame.h.
 */
#include "hwg_frame.h"

#include <string.h>

#include "hwg_secret.h"

void
hwg_frame_in_init(struct hwg_frame_in *f, size_t max)
{
	memset(f, 0, sizeof(*f));
	f->max = max;
}

static int
complete(const struct hwg_frame_in *f)
{
	return f->body != NULL && hwg_buf_len(f->body) == f->len;
}

size_t
hwg_frame_in_want(const struct hwg_frame_in *f)
{
	if (f->header_got < HWG_FRAME_HEADER_LEN)
		return HWG_FRAME_HEADER_LEN - f->header_got;
	return f->body != NULL ? f->len - hwg_buf_len(f->body) : 0;
}

/* The header is complete: its length, checked against the limit, and a body for it. */
static int
start_body(struct hwg_frame_in *f, struct hwg_error *err)
{
	struct hwg_buf *h = hwg_buf_from(f->header, sizeof(f->header));
	uint32_t len = 0;
	int rc;

	if (h == NULL)
		return hwg_error_set(err, HWG_E_NOMEM, "out of memory");
	rc = hwg_buf_get_u32be(h, &len);
	hwg_buf_free(h);
	if (rc != 0)
		return hwg_error_set(err, HWG_E_INTERNAL, "frame header unreadable");
	f->len = len;
	if (f->len > f->max)
		return hwg_error_set(err, HWG_E_TOO_LARGE,
		                     "frame of %zu bytes over the limit of %zu", f->len, f->max);
	if ((f->body = hwg_buf_new(f->len)) == NULL)
		return hwg_error_set(err, HWG_E_NOMEM, "out of memory");
	return 0;
}

int
hwg_frame_in_feed(struct hwg_frame_in *f, const uint8_t *p, size_t n, size_t *used,
                  struct hwg_error *err)
{
	size_t take;
	int rc;

	*used = 0;
	if (complete(f) || (f->header_got == HWG_FRAME_HEADER_LEN && f->body == NULL))
		return hwg_error_set(err, HWG_E_INVALID, "frame already ended");
	if (n == 0)
		return 0;
	if (f->header_got < HWG_FRAME_HEADER_LEN) {
		take = HWG_FRAME_HEADER_LEN - f->header_got;
		take = take < n ? take : n;
		memcpy(f->header + f->header_got, p, take);
		f->header_got += take;
		*used = take;
		if (f->header_got < HWG_FRAME_HEADER_LEN)
			return 0;
		if ((rc = start_body(f, err)) != 0)
			return rc;
	}
	take = f->len - hwg_buf_len(f->body);
	take = take < n - *used ? take : n - *used;
	if ((rc = hwg_buf_put(f->body, p + *used, take)) != 0)
		return hwg_error_set(err, rc, "cannot hold the frame's body");
	*used += take;
	return complete(f) ? 1 : 0;
}

void
hwg_frame_in_reset(struct hwg_frame_in *f)
{
	size_t max = f->max;

	hwg_buf_free(f->body);
	hwg_wipe(f, sizeof(*f));
	hwg_frame_in_init(f, max);
}
