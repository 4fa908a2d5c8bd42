/*
 * reg_cli_people.h — hwgw-registry's commands that put known people in a
 * register (a demo's or a test's resident, whose card hwsim holds): a
 * move-in from a CSV file, and DV support measures.
 */
#ifndef REG_CLI_PEOPLE_H
#define REG_CLI_PEOPLE_H

#include "hwgw_registry.h"

/*
 * move-in FILE [--date D] [--operator OP]: each row of the CSV (columns
 * resident_code name kana birth sex address postcode city_code aza_code
 * my_number household relation; household "" starts a new one, "=" joins
 * the previous row's) moves in, in order; "CODE household=H" per row.
 * argv[0] is "move-in".  Returns the exit status (messages on stderr).
 */
int reg_cli_move_in(struct hwgw_registry *r, int argc, char **argv, struct hwg_error *err);
/* dv CODE apply|decide|end [--date D]: a DV support measure opened, decided or ended. */
int reg_cli_dv(struct hwgw_registry *r, int argc, char **argv, struct hwg_error *err);

#endif
