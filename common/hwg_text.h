/*
 * hwg_text.h — text that came from a peer, made safe to repeat.
 *
 * A refusal's message and a log line often quote what a client sent (an
 * operation name, a client id, a URL).  A signed answer is CBOR, whose
 * text strings must be valid UTF-8 (RFC 8949 §3.1), or a strict decoder
 * refuses the whole answer; a log line must stay one line of key=value
 * pairs.  So every such text passes through here: valid UTF-8 is kept,
 * anything else is written as \xNN, and it is cut on a character
 * boundary when it does not fit.  Pure: no allocation, no I/O.
 */
#ifndef HWG_TEXT_H
#define HWG_TEXT_H

#include <stddef.h>
#include <stdint.h>

/*
 * 1 if p[0..n) is valid UTF-8 (RFC 3629: shortest forms only, no
 * surrogates, nothing above U+10FFFF), else 0.  NUL bytes are valid.
 */
int hwg_utf8_valid(const uint8_t *p, size_t n);
/*
 * The code point of the valid UTF-8 sequence at p (at most n bytes) in
 * *cp, and the sequence's length; 0 (and *cp untouched) when none starts
 * there: for checks character by character (a kana field, control
 * characters in a certificate's fields).
 */
size_t hwg_utf8_next(const uint8_t *p, size_t n, uint32_t *cp);

/* Escape control characters (C0, DEL) as \xNN as well: for one-line logs. */
#define HWG_TEXT_CONTROLS 0x1u
/* Escape '"' and '\' with a backslash: for a value between quotes in a log line. */
#define HWG_TEXT_QUOTES 0x2u

/*
 * Copy the NUL-terminated text in into out (size outlen > 0) as valid
 * UTF-8: each byte that does not start a valid sequence becomes \xNN,
 * and flags add the escapes above.  Stops before an escape or character
 * that would not fit.  Returns out.
 */
char *hwg_text_escape(char *out, size_t outlen, const char *in, unsigned flags);
/*
 * The same for the n bytes at in (NUL bytes among them are kept, or
 * escaped with HWG_TEXT_CONTROLS); returns the length written to out,
 * which is NUL-terminated.  out needs 4 * n + 1 bytes for all of it.
 */
size_t hwg_text_escape_n(char *out, size_t outlen, const uint8_t *in, size_t n, unsigned flags);

#endif
