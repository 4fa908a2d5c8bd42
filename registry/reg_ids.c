/*
 * reg_ids.c — the identifiers' check digits and the field formats.
 *
 * The My Number (個人番号) check digit is the published one (ordinance of
 * the Ministry of Internal Affairs, 2014): digits P_n of the first 11 from
 * the right, weights Q_n = n + 1 (n <= 6) or n - 5 (n >= 7), r = ΣPQ mod
 * 11, check 0 when r <= 1 else 11 - r.
 *
 * ASSUMPTION: the resident code's (住民票コード) check digit scheme is not
 * in public material found so far.  We assume modulus 11 with weights 2..7
 * repeating from the rightmost of the 10 digits, check 0 when the
 * remainder is 0 or 1, else 11 minus it.  Only reg_code_check_digit knows
 * this; replace it when the real scheme is known.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "hwg_text.h"
#include "hwgw_registry.h"
#include "reg_ids.h"

int
reg_digits(const char *s, size_t n)
{
	if (s == NULL || strlen(s) != n)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	return 1;
}

int
reg_mn_check_digit(const char *eleven)
{
	int sum = 0;

	if (eleven == NULL || strlen(eleven) < 11)
		return -1;
	for (int n = 1; n <= 11; n++) {
		char c = eleven[11 - n];
		if (c < '0' || c > '9')
			return -1;
		sum += (c - '0') * (n <= 6 ? n + 1 : n - 5);
	}
	sum %= 11;
	return sum <= 1 ? 0 : 11 - sum;
}

int
reg_code_check_digit(const char *ten)
{
	int sum = 0;

	if (ten == NULL || strlen(ten) < 10)
		return -1;
	for (int n = 1; n <= 10; n++) {
		char c = ten[10 - n];
		if (c < '0' || c > '9')
			return -1;
		sum += (c - '0') * ((n - 1) % 6 + 2);
	}
	sum %= 11;
	return sum <= 1 ? 0 : 11 - sum;
}

/* JIS X 0402: weights 6, 5, 4, 3, 2; the last digit of 11 minus the sum modulo 11. */
int
reg_city_check_digit(const char *five)
{
	int sum = 0;

	if (!reg_digits(five, 5))
		return -1;
	for (int i = 0; i < 5; i++)
		sum += (five[i] - '0') * (6 - i);
	return (11 - sum % 11) % 10;
}

int
reg_mn_validate(const char *mn, struct hwg_error *err)
{
	if (!reg_digits(mn, REG_MN_LEN))
		return hwg_error_set(err, HWG_E_INVALID, "My Number: not 12 digits");
	if (reg_mn_check_digit(mn) != mn[11] - '0')
		return hwg_error_set(err, HWG_E_CHECK_DIGIT,
		                     "My Number: the check digit (12th digit) is wrong");
	return 0;
}

int
reg_code_validate(const char *code, struct hwg_error *err)
{
	if (!reg_digits(code, REG_CODE_LEN))
		return hwg_error_set(err, HWG_E_INVALID, "resident code: not 11 digits");
	if (reg_code_check_digit(code) != code[10] - '0')
		return hwg_error_set(err, HWG_E_CHECK_DIGIT,
		                     "resident code %s: the check digit (11th digit) is wrong",
		                     code);
	return 0;
}

static int
digits_at(const char *s, size_t from, size_t n)
{
	for (size_t i = from; i < from + n; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	return 1;
}

static int
leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

int
reg_date_check(const char *what, const char *s, struct hwg_error *err)
{
	static const int mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	int y, m, d;

	if (s == NULL || strlen(s) != 10 || s[4] != '-' || s[7] != '-' || !digits_at(s, 0, 4) ||
	    !digits_at(s, 5, 2) || !digits_at(s, 8, 2))
		return hwg_error_set(err, HWG_E_INVALID, "%s: not a date YYYY-MM-DD", what);
	y = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
	m = (s[5] - '0') * 10 + (s[6] - '0');
	d = (s[8] - '0') * 10 + (s[9] - '0');
	if (y < 1800 || m < 1 || m > 12 || d < 1 || d > mdays[m - 1] + (m == 2 && leap(y)))
		return hwg_error_set(err, HWG_E_INVALID, "%s: %s is not a date", what, s);
	return 0;
}

/* The next code point of valid UTF-8 at *p, advanced; -1 at the end. */
static int32_t
next_cp(const unsigned char **p)
{
	const unsigned char *s = *p;
	int32_t c;
	int n;

	if (*s == 0)
		return -1;
	if (*s < 0x80)
		n = 0, c = *s;
	else if (*s < 0xe0)
		n = 1, c = *s & 0x1f;
	else if (*s < 0xf0)
		n = 2, c = *s & 0x0f;
	else
		n = 3, c = *s & 0x07;
	for (int i = 1; i <= n; i++)
		c = (c << 6) | (s[i] & 0x3f);
	*p = s + n + 1;
	return c;
}

int
reg_text_check(const char *what, const char *s, size_t max, struct hwg_error *err)
{
	size_t len = s != NULL ? strlen(s) : 0;

	if (len == 0)
		return hwg_error_set(err, HWG_E_INVALID, "%s: missing", what);
	if (len > max)
		return hwg_error_set(err, HWG_E_INVALID, "%s: longer than %zu bytes", what, max);
	if (!hwg_utf8_valid((const uint8_t *)s, len))
		return hwg_error_set(err, HWG_E_INVALID, "%s: not UTF-8", what);
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return hwg_error_set(err, HWG_E_INVALID, "%s: a control character", what);
	return 0;
}

int
reg_kana_check(const char *what, const char *s, struct hwg_error *err)
{
	const unsigned char *p = (const unsigned char *)s;
	int32_t c;
	int rc;

	if ((rc = reg_text_check(what, s, 191, err)) != 0)
		return rc;
	while ((c = next_cp(&p)) >= 0)
		if (!(c >= 0x30a1 && c <= 0x30fc) && c != 0x3000 && c != 0x20)
			return hwg_error_set(err, HWG_E_INVALID,
			                     "%s: U+%04X is not katakana (フリガナ is written in "
			                     "katakana)",
			                     what, (unsigned)c);
	return 0;
}

int
reg_gaiji_count(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	int32_t c;
	int n = 0;

	while ((c = next_cp(&p)) >= 0)
		if (c >= 0xe000 && c <= 0xf8ff)
			n++;
	return n;
}
