/*
 * hwg_helper.h — where hwgwd finds the programs it starts for its other
 * processes (hwgw-net, hwgw-keyholder): in [gateway] libexec_dir when the
 * configuration names one (dir; then only there), else beside its own
 * executable (a
 * build tree), else where make install put them relative to hwgwd
 * (SBINDIR/../libexec/hwgw, whatever PREFIX was), else in HWG_LIBEXECDIR
 * (the prefix this was built for).  A program that is not an executable
 * regular file in any of them is HWG_E_CONFIG naming the last place.
 */
#ifndef HWG_HELPER_H
#define HWG_HELPER_H

#include <stddef.h>

#include "hwg_err.h"

int hwg_helper_path(const char *dir, const char *name, char *out, size_t len,
                    struct hwg_error *err);

#endif
