/*
 * hwg_idnum.h — the check digits of the identifiers residents carry.
 * One module below everything, because two parts of hwgw that may not
 * include each other check the same number: the card driver reads the
 * My Number from a card (drivers/card/hwg_mn_info.c, and hwsim's
 * profiles), and the gateway checks the My Number a registry put on a
 * certificate (gateway/shared/hwg_certdoc.c).  Pure: no allocation, no
 * I/O.
 */
#ifndef HWG_IDNUM_H
#define HWG_IDNUM_H

/*
 * 1 if s is exactly 12 ASCII digits (then its end) whose last is the
 * check digit of the first 11, else 0.  The ordinance's scheme
 * (個人番号 check digit): with P_n the n-th of the first 11 digits counted
 * from the right and Q_n = n + 1 for n <= 6, n - 5 for n >= 7, r = the sum
 * of P_n * Q_n modulo 11; the check digit is 0 when r <= 1, else 11 - r.
 * "537686677188" is a valid test number.
 */
int hwg_mynumber_valid(const char *s);

#endif
