/*
 * reg_ids.h — what a field of the register must look like: dates, kana,
 * sex, postcodes and codes, and the count of 外字 (private-use code
 * points) in a text.  The identifiers' check digits are declared in
 * hwgw_registry.h (reg_mn_*, reg_code_*).  Each check returns 0 or
 * HWG_E_INVALID naming the field.
 */
#ifndef REG_IDS_H
#define REG_IDS_H

#include <stddef.h>

#include "hwg_err.h"

/* 1 if s is exactly n ASCII digits. */
int reg_digits(const char *s, size_t n);
/* A real calendar date written YYYY-MM-DD. */
int reg_date_check(const char *what, const char *s, struct hwg_error *err);
/* Katakana (U+30A1–U+30FC) with U+3000 / U+0020 between words, not empty. */
int reg_kana_check(const char *what, const char *s, struct hwg_error *err);
/* Non-empty valid UTF-8 of at most max bytes, no control characters. */
int reg_text_check(const char *what, const char *s, size_t max, struct hwg_error *err);
/* The check digit of a 5-digit local government code (JIS X 0402), or -1. */
int reg_city_check_digit(const char *five);
/* Private-use code points (U+E000–U+F8FF) in a valid UTF-8 text. */
int reg_gaiji_count(const char *s);

#endif
