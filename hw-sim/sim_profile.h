/*
 * sim_profile.h — card profiles: one INI file per simulated card
 * (format in hw-sim/README.md).
 */
#ifndef SIM_PROFILE_H
#define SIM_PROFILE_H

#include <stddef.h>

#include "sim_card.h"

/*
 * Load path into spec (cleared first; sim_card_spec_clear() it after use).
 * Relative file names are relative to the profile's directory.  -1 with
 * "file:line: [section] key: problem" in why.
 */
int sim_profile_load(const char *path, struct sim_card_spec *spec, char *why, size_t why_len);

#endif
