/*
 * hwg_idnum.c — identifier check digits (see hwg_idnum.h).
 */
#include "hwg_idnum.h"

#include <stddef.h>

int
hwg_mynumber_valid(const char *s)
{
	int sum = 0, check;

	if (s == NULL)
		return 0;
	for (int i = 0; i < 12; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0; /* a shorter string stops at its NUL */
	if (s[12] != '\0')
		return 0;
	/* P_n counts from the right of the first 11 digits; Q_n = n+1 (n <= 6), n-5 (n >= 7) */
	for (int n = 1; n <= 11; n++)
		sum += (s[11 - n] - '0') * (n <= 6 ? n + 1 : n - 5);
	check = sum % 11 <= 1 ? 0 : 11 - sum % 11;
	return s[11] - '0' == check;
}
