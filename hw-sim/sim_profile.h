/*
 * sim_profile.h — card profiles: one INI file per simulated card, written
 * by hand or by scripts/card-pki (format in hw-sim/README.md).
 */
#ifndef SIM_PROFILE_H
#define SIM_PROFILE_H

#include "hwg_err.h"
#include "sim_card.h"

/*
 * Load path into spec (which it clears first; sim_card_spec_clear() it
 * after use).  Relative file names are relative to the profile's
 * directory.  A refusal is HWG_E_CONFIG with "PATH[:LINE]: [section] key:
 * problem" in err; spec is then empty.
 */
int sim_profile_load(const char *path, struct sim_card_spec *spec, struct hwg_error *err);

/* Load a profile and build the card from it: what `insert` does. */
int sim_profile_card(const char *path, struct sim_card **card, struct hwg_error *err);

#endif
