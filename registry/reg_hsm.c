/*
 * reg_hsm.c — see reg_hsm.h.
 */
#include <stddef.h>

#include "reg_hsm.h"

int
reg_hsm_open(const struct reg_p11_key *key, const char *what, struct hwg_p11 **p,
             struct hwg_error *err)
{
	struct hwg_p11_config cfg;

	*p = NULL;
	if (key == NULL || key->token_label == NULL || key->pin_file == NULL ||
	    key->label == NULL || key->label[0] == '\0')
		return hwg_error_set(err, HWG_E_CONFIG,
		                     "%s: the PKCS#11 token, PIN file and key label are all needed",
		                     what);
	cfg = (struct hwg_p11_config){key->module != NULL ? key->module : REG_PKCS11_MODULE,
	                              key->token_label, key->pin_file};
	return hwg_p11_open(&cfg, p, err);
}
