/*
 * sim_cs.h — a simulated CS (the city's communication server of 住基ネット)
 * that receives the register's identity-information notifications over
 * HTTP, so that the outbox sender (registry/reg_send.c) is tested against
 * a real socket: it records each notice once by its update sequence
 * number (a repeated delivery is acknowledged again and counted, never
 * recorded twice), and obeys control commands that make it fail, go away
 * and come back.
 *
 * POST /notice with a deterministic CBOR map (seq, resident_code, reason,
 * change_date, ...): recorded as one line "seq=N code=C reason=R date=D"
 * in the log file (never the name, address or My Number), answered
 * "ack N".  Control commands (hwsim's socket, "cs ..."):
 *   cs ack        answer normally (the default)
 *   cs fail N     answer the next N deliveries 503, recording nothing
 *   cs away       stop listening (connections refused)
 *   cs back       listen again on the same port
 *   cs delay MS   record, then wait MS before answering
 *   cs status     ok recorded=N duplicates=N failed=N away=0|1
 */
#ifndef SIM_CS_H
#define SIM_CS_H

#include "hwg_err.h"

struct sim_cs;

/* Listen on 127.0.0.1:port, appending to log_path. */
int sim_cs_start(int port, const char *log_path, struct sim_cs **out, struct hwg_error *err);
void sim_cs_stop(struct sim_cs *cs);
/* A "cs ..." control line: the reply (malloc'd), or NULL when the line is not a cs command. */
char *sim_cs_command(void *cs, const char *line);

#endif
