/*
 * reg_csv.h — a strict reader of the CSV files the register imports (a
 * legacy system's export to reconcile, another city's move-out data):
 * hostile input, so every byte is checked and each refusal says on which
 * line.
 *
 * RFC 4180: fields separated by commas, records by CRLF or LF (a bare CR
 * is refused); a field may be quoted, and then holds commas, line breaks
 * and doubled quotes; a quote anywhere else is refused, and so is
 * anything between a closing quote and the next comma or line end.  The
 * first record is the header: named columns, none empty, none twice.
 * Every record has as many fields as the header (else refused with its
 * line number).  A NUL byte is refused.  The text is UTF-8: files in
 * another encoding go through reg_csv_decode first.
 */
#ifndef REG_CSV_H
#define REG_CSV_H

#include <stddef.h>
#include <stdint.h>

#include "hwg_err.h"

#define REG_CSV_COLS_MAX 64
#define REG_CSV_RECORD_MAX 65536       /* bytes of one record as written */
#define REG_CSV_INPUT_MAX (256u << 20) /* bytes of a whole file */

/*
 * in[0..len) written in encoding ("utf-8", "shift_jis" or "cp932": both
 * read as Windows-31J, the form Japanese systems export as Shift_JIS)
 * → UTF-8 in *out (malloc'd, NUL-terminated, a UTF-8 BOM dropped).  A
 * byte sequence that is not a character of the encoding is refused
 * (HWG_E_INVALID) with its line and byte offset.
 */
int reg_csv_decode(const uint8_t *in, size_t len, const char *encoding, char **out, size_t *out_len,
                   struct hwg_error *err);

struct reg_csv {
	const char *p, *end;
	long line; /* the line the current record starts on (1: the header) */
	long next_line;
	int ncols;
	const char *names[REG_CSV_COLS_MAX];  /* the header */
	const char *fields[REG_CSV_COLS_MAX]; /* the current record */
	char *header, *row;                   /* their storage */
};

/* Read the header of text[0..len) (kept, not copied: it must outlive c). */
int reg_csv_open(struct reg_csv *c, const char *text, size_t len, struct hwg_error *err);
/* The next record into c->fields: 1, or 0 at the end, or a refusal (HWG_E_INVALID). */
int reg_csv_next(struct reg_csv *c, struct hwg_error *err);
/* The index of the column named name, or -1. */
int reg_csv_column(const struct reg_csv *c, const char *name);
void reg_csv_close(struct reg_csv *c);

#endif
