/*
 * hwg_helper.h — where hwgwd finds the programs it starts for its other
 * processes (hwgw-net, hwgw-keyholder): beside its own executable first
 * (a build tree, or an install that keeps them together), else in
 * HWG_LIBEXECDIR (the installed ${libexecdir}/hwgw).  A program that is
 * not a regular executable file in either place is HWG_E_CONFIG naming
 * both.
 */
#ifndef HWG_HELPER_H
#define HWG_HELPER_H

#include <stddef.h>

#include "hwg_err.h"

int hwg_helper_path(const char *name, char *out, size_t len, struct hwg_error *err);

#endif
