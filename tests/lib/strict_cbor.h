/*
 * strict_cbor.h — a strict reader of the gateway's answers, for tests:
 * what a careful client in another language would accept, written here
 * independently of common/hwg_cbor.c and crypto/hwg_cose.c (the code
 * under test).  An answer passes when it is a tagged COSE_Sign1 (tag 18,
 * four elements, a 64-byte signature) whose payload is one well-formed
 * CBOR item (RFC 8949 §3; indefinite lengths are well formed, and
 * device.list uses one), every text string, and each chunk of one,
 * valid UTF-8 (RFC 8949 §3.1, RFC 3629), no map key repeated, nesting of
 * at most 16, and nothing after it.  Header only: each test driver
 * includes it once.
 */
#ifndef STRICT_CBOR_H
#define STRICT_CBOR_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct strict_in {
	const uint8_t *p;
	size_t left;
};

#define STRICT_INDEFINITE UINT64_MAX

/*
 * One head: major type and argument (STRICT_INDEFINITE for an indefinite
 * string, array or map); reserved values, and indefinite anything else,
 * refused.
 */
static int
strict_head(struct strict_in *in, int *major, uint64_t *arg)
{
	uint8_t b, info;
	size_t n;

	if (in->left == 0)
		return -1;
	b = *in->p++;
	in->left--;
	*major = b >> 5;
	info = b & 0x1f;
	if (info < 24) {
		*arg = info;
		return 0;
	}
	if (info == 31 && *major >= 2 && *major <= 5) {
		*arg = STRICT_INDEFINITE;
		return 0;
	}
	if (info > 27)
		return -1;
	n = (size_t)1 << (info - 24);
	if (in->left < n)
		return -1;
	*arg = 0;
	for (size_t i = 0; i < n; i++)
		*arg = (*arg << 8) | in->p[i];
	in->p += n;
	in->left -= n;
	return 0;
}

static int
strict_utf8(const uint8_t *p, size_t n)
{
	size_t i = 0;

	while (i < n) {
		uint32_t c = p[i], min;
		size_t len;

		if (c < 0x80) {
			i++;
			continue;
		}
		if ((c & 0xe0) == 0xc0) {
			len = 2;
			c &= 0x1f;
			min = 0x80;
		} else if ((c & 0xf0) == 0xe0) {
			len = 3;
			c &= 0x0f;
			min = 0x800;
		} else if ((c & 0xf8) == 0xf0) {
			len = 4;
			c &= 0x07;
			min = 0x10000;
		} else {
			return 0;
		}
		if (i + len > n)
			return 0;
		for (size_t k = 1; k < len; k++) {
			if ((p[i + k] & 0xc0) != 0x80)
				return 0;
			c = (c << 6) | (p[i + k] & 0x3f);
		}
		if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
			return 0;
		i += len;
	}
	return 1;
}

static int strict_item(struct strict_in *in, int depth);

/* At a break (0xff) that ends an indefinite item: consume it. */
static int
strict_break(struct strict_in *in)
{
	if (in->left > 0 && in->p[0] == 0xff) {
		in->p++;
		in->left--;
		return 1;
	}
	return 0;
}

static int
strict_item(struct strict_in *in, int depth)
{
	const uint8_t *keys[64];
	size_t key_lens[64];
	int major, chunk_major;
	uint64_t arg, n;

	if (depth > 16 || strict_head(in, &major, &arg) != 0)
		return -1;
	switch (major) {
	case 0:
	case 1:
		return 0;
	case 2:
	case 3:
		if (arg == STRICT_INDEFINITE) { /* chunks: definite strings of the same type */
			while (!strict_break(in)) {
				if (strict_head(in, &chunk_major, &arg) != 0 ||
				    chunk_major != major || arg == STRICT_INDEFINITE ||
				    arg > in->left ||
				    (major == 3 && !strict_utf8(in->p, (size_t)arg)))
					return -1;
				in->p += arg;
				in->left -= (size_t)arg;
			}
			return 0;
		}
		if (arg > in->left || (major == 3 && !strict_utf8(in->p, (size_t)arg)))
			return -1;
		in->p += arg;
		in->left -= (size_t)arg;
		return 0;
	case 4:
		for (n = 0; arg == STRICT_INDEFINITE ? !strict_break(in) : n < arg; n++)
			if (strict_item(in, depth + 1) != 0)
				return -1;
		return 0;
	case 5:
		for (n = 0; arg == STRICT_INDEFINITE ? !strict_break(in) : n < arg; n++) {
			if (n == 64)
				return -1; /* no answer of the API has a map this large */
			keys[n] = in->p;
			if (strict_item(in, depth + 1) != 0)
				return -1;
			key_lens[n] = (size_t)(in->p - keys[n]);
			/* a repeated key: the same encoded bytes as an earlier key of this map */
			for (uint64_t j = 0; j < n; j++)
				if (key_lens[j] == key_lens[n] &&
				    memcmp(keys[j], keys[n], key_lens[n]) == 0)
					return -1;
			if (strict_item(in, depth + 1) != 0)
				return -1;
		}
		return 0;
	case 6:
		return strict_item(in, depth + 1);
	default: /* simple values and floats: the argument was the value */
		return 0;
	}
}

/*
 * 0 when resp is an answer a strict client accepts (see above); -1 and
 * *why otherwise.  The signature is not checked here (libhwgw does).
 */
static int
strict_answer(const uint8_t *resp, size_t len, const char **why)
{
	struct strict_in in = {resp, len}, payload;
	int major;
	uint64_t arg;

	*why = "not tag 18";
	if (strict_head(&in, &major, &arg) != 0 || major != 6 || arg != 18)
		return -1;
	*why = "not a 4-element array";
	if (strict_head(&in, &major, &arg) != 0 || major != 4 || arg != 4)
		return -1;
	*why = "protected header not a byte string";
	if (strict_head(&in, &major, &arg) != 0 || major != 2 || arg == STRICT_INDEFINITE ||
	    arg > in.left)
		return -1;
	in.p += arg;
	in.left -= (size_t)arg;
	*why = "unprotected header not {}";
	if (strict_head(&in, &major, &arg) != 0 || major != 5 || arg != 0)
		return -1;
	*why = "payload not a byte string";
	if (strict_head(&in, &major, &arg) != 0 || major != 2 || arg == STRICT_INDEFINITE ||
	    arg > in.left)
		return -1;
	payload = (struct strict_in){in.p, (size_t)arg};
	in.p += arg;
	in.left -= (size_t)arg;
	*why = "signature not 64 bytes";
	if (strict_head(&in, &major, &arg) != 0 || major != 2 || arg != 64 || in.left != 64)
		return -1;
	*why = "payload not one well-formed item of valid UTF-8 texts";
	if (strict_item(&payload, 0) != 0 || payload.left != 0)
		return -1;
	*why = NULL;
	return 0;
}

#endif
