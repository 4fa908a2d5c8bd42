/*
 * reg_internal.h — what the registry's own files share: the handle, the
 * record versions' load and store (reg_store.c), the update sequence, and
 * the one transaction wrapper every change runs in.
 */
#ifndef REG_INTERNAL_H
#define REG_INTERNAL_H

#include "hwgw_registry.h"
#include "reg_db.h"
#include "reg_mn.h"

struct hwgw_registry {
	struct reg_db *db;
	struct reg_mn_key key;
	int64_t seq; /* the update sequence number of the change running */
};

/* What a change does to the record, given the transaction it runs in. */
typedef int (*change_fn)(struct hwgw_registry *r, const void *arg, const struct reg_actor *who,
                         struct reg_person *next, struct hwg_error *err);
/*
 * One change (reg_change.c): a write transaction that takes the next
 * update sequence number (r->seq while fn runs), lets fn make the next
 * version, stores it and, if notify, queues its notice; retried when the
 * engine lost it to a deadlock.
 */
int reg_run_change(struct hwgw_registry *r, change_fn fn, const void *arg,
                   const struct reg_actor *who, int notify, struct reg_person *out,
                   struct hwg_error *err);
/* The move-in's change_fn; arg is the struct reg_person the form gives. */
int reg_do_move_in(struct hwgw_registry *r, const void *arg, const struct reg_actor *who,
                   struct reg_person *next, struct hwg_error *err);
/* The facts of a person as a form gives them; code_needed 0 for a birth. */
int reg_facts_check(const struct reg_person *p, int code_needed, struct hwg_error *err);

/* The next value of a counter ("seq", "household", "code"); locks it till the transaction ends. */
int reg_counter_next(struct hwgw_registry *r, const char *name, int64_t *out,
                     struct hwg_error *err);
/* k values of a counter at once: *first, *first + 1, ... *first + k - 1. */
int reg_counter_take(struct hwgw_registry *r, const char *name, int64_t k, int64_t *first,
                     struct hwg_error *err);
/*
 * Store p as version p->version of its record (the My Number sealed, its
 * hash kept) and make it the current one.  A version that exists is
 * HWG_E_EXISTS: nothing is ever overwritten.
 */
int reg_version_store(struct hwgw_registry *r, const struct reg_person *p, struct hwg_error *err);
/* Version `version` (0: the current one) of code; HWG_E_NOT_FOUND if none. */
int reg_version_load(struct hwgw_registry *r, const char *code, int64_t version, int with_mn,
                     struct reg_person *out, struct hwg_error *err);
/* Active members' codes of a household, the head first; *n their count. */
int reg_household_members(struct hwgw_registry *r, const char *household,
                          char (*codes)[REG_CODE_LEN + 1], size_t max, size_t *n,
                          struct hwg_error *err);

/*
 * Drop (make 0) or make again (make 1) the search indexes of residents,
 * in a transaction of its own: a bulk load into an empty register
 * (reg_seed.c) builds them once at the end instead of row by row.
 */
int reg_resident_indexes(struct hwgw_registry *r, int make, struct hwg_error *err);
/* HWG_E_RECORD_BLOCKED while code has a migration difference open (reg_reconcile.c), else 0. */
int reg_blocked(struct hwgw_registry *r, const char *code, struct hwg_error *err);

/* A row callback copying the first column's text into an int64 (arg), or a char[32]. */
int reg_row_i64(void *arg, int ncols, const char *const *vals);
int reg_row_text32(void *arg, int ncols, const char *const *vals);

/* Copy s into a fixed field, refusing what does not fit. */
int reg_copy(char *dst, size_t n, const char *s);
#define REG_COPY(dst, s) reg_copy((dst), sizeof(dst), (s))

#endif
