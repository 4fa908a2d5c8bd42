/*
 * hwgw_registry.h — the core registry logic (libhwgw-registry): residents,
 * households and their record versions; the changes a counter records,
 * with the logic checks of the source documents and the identity-information
 * notification each queues; five-fact search; who may get which
 * certificate; and the signed document that cert.issue prints.
 *
 * One handle is one connection to the register, which lives on SQLite (one
 * counter, the demo, CI) or PostgreSQL (a city's counters sharing one
 * register): the same schema and the same rules on both.  A handle is used
 * by one thread at a time; threads open a handle each.  Every function
 * returns 0 or a negative HWG_E_* code with a message in err; nothing is
 * logged, and no message ever holds a My Number.
 */
#ifndef HWGW_REGISTRY_H
#define HWGW_REGISTRY_H

#include <stddef.h>
#include <stdint.h>

#include "hwg_err.h"

#define REG_CODE_LEN 11 /* 住民票コード: 10 digits and a check digit */
#define REG_MN_LEN 12   /* 個人番号: 11 digits and a check digit */
#define REG_SEARCH_MAX 100

struct hwgw_registry;

/* What a record's status is. */
#define REG_ACTIVE "active"       /* a current resident */
#define REG_MOVED_OUT "moved_out" /* 転出: the record is kept (除票) */
#define REG_DEAD "dead"           /* 死亡: the record is kept (除票) */

/*
 * One version of one person's record.  Text is UTF-8; dates are
 * YYYY-MM-DD; "" is "not set".  my_number is plaintext only in memory: it
 * is stored encrypted and filled on reading only when asked for.
 */
struct reg_person {
	char resident_code[REG_CODE_LEN + 1];
	int64_t version; /* 1, 2, ...: every change makes the next one */
	char status[12]; /* REG_ACTIVE, REG_MOVED_OUT, REG_DEAD */
	char household[24];
	char relation[64]; /* 続柄 to the head: 世帯主, 妻, 子 ... */
	char name[192];    /* 氏名 (family and given name, U+3000 between) */
	int name_gaiji;    /* 外字 in name: private-use code points, counted on writing */
	char kana[192];    /* フリガナ, katakana */
	char former_surname[96];
	char former_surname_kana[96];
	char birth[11];
	char sex[2]; /* ISO 5218: "1" male, "2" female */
	char city_code[7];
	char aza_code[13];
	char postcode[9];
	char address[256];
	int address_gaiji;
	char previous_address[256];
	char my_number[REG_MN_LEN + 1];
	char resident_since[11];
	char address_since[11];
	char notified[11];
	char reason[24]; /* 異動事由: move_in, in_town_move, move_out, ... */
	char change_date[11];
	char moving_to[256];
	char moving_date[11];
	int cert_control; /* 証明書発行制御区分: nonzero holds every issuance */
	int wide_control; /* 広域交付制御区分: nonzero refuses issuance at another city */
	char operator_id[64];
	char terminal_id[64];
	int64_t seq; /* the update sequence number of the change that made it */
};

/* Who records a change (kept in the version it makes). */
struct reg_actor {
	const char *operator_id;
	const char *terminal_id;
	const char *date; /* the day of the change (異動年月日), YYYY-MM-DD */
};

/*
 * Open the register at uri: "sqlite:PATH" (created if absent) or
 * "postgres:CONNINFO" (libpq key=value form).  mn_key_path names the
 * My Number key file: 32 bytes, or 64 hex digits and a newline, mode 0600
 * and ours.  The schema is created or migrated forward.
 */
int hwgw_registry_open(const char *uri, const char *mn_key_path, struct hwgw_registry **out,
                       struct hwg_error *err);

/*
 * A key on a PKCS#11 token: the module (NULL: REG_PKCS11_MODULE), the
 * token's label, its user PIN file (0600) and the key's label.
 */
#define REG_PKCS11_MODULE "/usr/lib/softhsm/libsofthsm2.so"
struct reg_p11_key {
	const char *module, *token_label, *pin_file, *label;
};
/*
 * The same with the My Number key sealed by the token's AES-256 key
 * hsm->label (hwgw-registry mn-key-seal makes the file): unsealed in the
 * HSM at open, so the file alone, copied, opens no number.
 */
int hwgw_registry_open_sealed(const char *uri, const char *sealed_path,
                              const struct reg_p11_key *hsm, struct hwgw_registry **out,
                              struct hwg_error *err);
void hwgw_registry_close(struct hwgw_registry *r);
/* "sqlite" or "postgres". */
const char *hwgw_registry_engine(const struct hwgw_registry *r);

/* --------------------------------------------------------- identifiers */

/* The check digit of the 11 first digits of a My Number, or -1. */
int reg_mn_check_digit(const char *eleven);
/* A 12-digit My Number with its right check digit: 0, HWG_E_INVALID or HWG_E_CHECK_DIGIT. */
int reg_mn_validate(const char *mn, struct hwg_error *err);
/* The check digit of a resident code's 10 first digits (assumed scheme, reg_ids.c), or -1. */
int reg_code_check_digit(const char *ten);
int reg_code_validate(const char *code, struct hwg_error *err);

/* ------------------------------------------------------------- changes */

/*
 * 転入: p carries the facts (resident code from the old city, name, kana,
 * birth, sex, address and codes, My Number, relation); household "" starts
 * a new household with p as its head, else joins that one.  A person
 * already registered (the code, or the My Number, of a current resident)
 * is HWG_E_ALREADY_REGISTERED.  *out gets the version made (may be NULL).
 */
int hwgw_registry_move_in(struct hwgw_registry *r, const struct reg_person *p,
                          const struct reg_actor *who, struct reg_person *out,
                          struct hwg_error *err);
/*
 * 出生: as a move-in with a new resident code made here (p->resident_code
 * "" asks for one) into an existing household; resident_since is the
 * birth date.  The My Number may be "" (assigned later).
 */
int hwgw_registry_birth(struct hwgw_registry *r, const struct reg_person *p,
                        const struct reg_actor *who, struct reg_person *out, struct hwg_error *err);
/*
 * 転居: p is the whole record as the form gives it with the new address
 * (address, codes, postcode); any other field that differs from the
 * current version is HWG_E_LOGIC_CHECK naming it.
 */
int hwgw_registry_move_within(struct hwgw_registry *r, const struct reg_person *p,
                              const struct reg_actor *who, struct reg_person *out,
                              struct hwg_error *err);
/* 転出: the record stays, status moved_out, with where to and when. */
int hwgw_registry_move_out(struct hwgw_registry *r, const char *code, const char *moving_to,
                           const char *moving_date, const struct reg_actor *who,
                           struct reg_person *out, struct hwg_error *err);
/*
 * 世帯変更: code joins household ("" starts a new one, code its head) with
 * relation.  Refused: the same household; a head leaving members behind;
 * a second head.
 */
int hwgw_registry_household_change(struct hwgw_registry *r, const char *code, const char *household,
                                   const char *relation, const struct reg_actor *who,
                                   struct reg_person *out, struct hwg_error *err);
/* 死亡: the record stays, status dead. */
int hwgw_registry_death(struct hwgw_registry *r, const char *code, const struct reg_actor *who,
                        struct reg_person *out, struct hwg_error *err);
/* The issuance control flags (a new version; no notification: the CS holds no flags). */
int hwgw_registry_set_controls(struct hwgw_registry *r, const char *code, int cert_control,
                               int wide_control, const struct reg_actor *who,
                               struct hwg_error *err);
/* DV support measures: applied opens one, decided and ended date it. */
int hwgw_registry_dv_apply(struct hwgw_registry *r, const char *code, const char *applied,
                           struct hwg_error *err);
int hwgw_registry_dv_decide(struct hwgw_registry *r, const char *code, const char *decided,
                            struct hwg_error *err);
int hwgw_registry_dv_end(struct hwgw_registry *r, const char *code, const char *ended,
                         struct hwg_error *err);
/* 1 if a measure is in force for code on day (YYYY-MM-DD), 0 if none, or an error. */
int hwgw_registry_dv_in_force(struct hwgw_registry *r, const char *code, const char *day,
                              struct hwg_error *err);

/* ------------------------------------------------ special move-in */

/* Move-out data (転出証明書情報) another city sends ahead of the person. */
struct reg_moveout {
	char resident_code[REG_CODE_LEN + 1];
	char name[192], kana[192];
	char birth[11]; /* YYYY-MM-DD */
	char sex[2];
	char address[256]; /* the address in the old city */
	char my_number[REG_MN_LEN + 1];
	char from_city[7];    /* the old city's code */
	char moving_to[256];  /* the address here, as the person declared it */
	char moving_date[11]; /* 転出予定年月日 */
	char received[11];    /* when it arrived: its expiry counts from here */
};
/* Keep m pending (*id its number, may be NULL); data pending for the same My Number → HWG_E_EXISTS.
 */
int hwgw_registry_moveout_receive(struct hwgw_registry *r, const struct reg_moveout *m, int64_t *id,
                                  struct hwg_error *err);
/*
 * A feed of move-out data: a CSV file (registry/reg_csv.h; UTF-8) with the
 * columns resident_code name kana birth sex address my_number from_city
 * moving_to moving_date (others are ignored), received on `received`.
 * All rows or none: a refusal names its line.  *n the rows kept.
 */
int hwgw_registry_moveout_import(struct hwgw_registry *r, const char *text, size_t len,
                                 const char *received, long *n, struct hwg_error *err);

/* The facts as card.read_info returns them. */
struct reg_card_facts {
	const char *name; /* family and given name, U+3000 between */
	const char *address;
	const char *birth; /* YYYYMMDD */
	const char *sex;   /* "1", "2" */
	const char *my_number;
};
/*
 * 特例転入: the pending move-out data of the card's holder (by My Number)
 * must match the card's name, address, birth date and sex; then the
 * person moves in with the form's address, codes, household and relation
 * (as hwgw_registry_move_in, reason "special_move_in", the old address
 * as previous address) and the data is claimed, in one transaction.
 * HWG_E_NOT_FOUND when nothing is pending; HWG_E_MOVEOUT_MISMATCH naming
 * the fields that differ (names only, never values).
 */
int hwgw_registry_special_move_in(struct hwgw_registry *r, const struct reg_card_facts *card,
                                  const struct reg_person *form, const struct reg_actor *who,
                                  struct reg_person *out, struct hwg_error *err);
/*
 * Erase the move-out data received more than days before today and never
 * claimed; each erasure is recorded in moveout_erasures (its number, the
 * city it came from, when received, when erased, why: no personal data).
 * *erased how many.
 */
int hwgw_registry_moveout_expire(struct hwgw_registry *r, const char *today, int days, long *erased,
                                 struct hwg_error *err);

/* --------------------------------------------------- reconciliation */

/* One difference: a resident code (or "line N" for a row whose code is not one) and a field. */
typedef int (*reg_diff_fn)(void *arg, const char *code, const char *field);
struct reg_reconcile_stats {
	long rows, records_differing, differences;
};
/*
 * Compare a legacy export (CSV, UTF-8: reg_csv_decode first; a column
 * resident_code and any of name kana birth sex address postcode city_code
 * aza_code relation household former_surname resident_since
 * address_since my_number) with the current version of each record,
 * field by field.  fn (may be NULL) sees each difference, "record" for a
 * code the register does not hold.  Each is kept open (found on today)
 * until hwgw_registry_resolve: while a record has one open, no document
 * (HWG_E_RECORD_BLOCKED) and no notice is built for it.  Rows are
 * compared in transactions of 500; a refusal of the file names its line.
 */
int hwgw_registry_reconcile(struct hwgw_registry *r, const char *text, size_t len,
                            const char *today, reg_diff_fn fn, void *arg,
                            struct reg_reconcile_stats *st, struct hwg_error *err);
/* An operator resolves one open difference (HWG_E_NOT_FOUND if none is open). */
int hwgw_registry_resolve(struct hwgw_registry *r, const char *code, const char *field,
                          const char *operator_id, const char *today, struct hwg_error *err);
/* Every open difference, by resident code and field. */
int hwgw_registry_unresolved(struct hwgw_registry *r, reg_diff_fn fn, void *arg,
                             struct hwg_error *err);

/* ------------------------------------------------------- synthetic */

struct reg_seed_stats {
	long residents, households, dv, controls;
};
/*
 * N synthetic residents in households of the fictional city 東雲県若葉市
 * (registry/reg_seed.c): names with furigana (some with a 外字), birth
 * dates, addresses with codes, valid check digits, a few DV measures and
 * control flags, as of date.  The same n, seed and date make the same
 * register.  Only an empty register is seeded (else HWG_E_EXISTS); no
 * notification is queued.
 */
int hwgw_registry_seed(struct hwgw_registry *r, long n, uint64_t seed, const char *date,
                       struct reg_seed_stats *st, struct hwg_error *err);

/* ------------------------------------------------------------- reading */

/* The current version (with_mn: the My Number decrypted into it). */
int hwgw_registry_get(struct hwgw_registry *r, const char *code, int with_mn,
                      struct reg_person *out, struct hwg_error *err);
/* One version, which is never changed once made. */
int hwgw_registry_get_version(struct hwgw_registry *r, const char *code, int64_t version,
                              int with_mn, struct reg_person *out, struct hwg_error *err);
/* The resident code whose current My Number is mn (by its keyed hash). */
int hwgw_registry_find_mn(struct hwgw_registry *r, const char *mn, char code[REG_CODE_LEN + 1],
                          struct hwg_error *err);

/* The five facts; NULL or "" is "not given". */
struct reg_query {
	const char *name;
	const char *kana;
	const char *address; /* a prefix of the address */
	const char *sex;
	const char *birth;
};
struct reg_hit {
	char resident_code[REG_CODE_LEN + 1];
	int64_t version;
	char status[12];
};
/*
 * Search by the five facts: at least two items other than sex, else
 * HWG_E_SEARCH_TOO_FEW saying what was given.  Up to max hits; *n their
 * count (HWG_E_TOO_LARGE when more match: narrow the search).
 */
int hwgw_registry_search(struct hwgw_registry *r, const struct reg_query *q, struct reg_hit *hits,
                         size_t max, size_t *n, struct hwg_error *err);

/* Up to max records by resident code from the first after `after` ("" or NULL: the first). */
int hwgw_registry_list(struct hwgw_registry *r, const char *after, struct reg_hit *hits, size_t max,
                       size_t *n, struct hwg_error *err);

/* ------------------------------------------------------ notifications */

/* One queued identity-information notification (fields per the brief). */
struct reg_notice {
	int64_t seq; /* 更新順番号 */
	char resident_code[REG_CODE_LEN + 1];
	int64_t version;
	char name[192];
	char kana[192];
	char birth[11];
	char sex[2];
	char address[256];
	char my_number[REG_MN_LEN + 1]; /* decrypted for the sender */
	char reason[24];
	char change_date[11];
	int64_t sent_ms; /* 0 while not delivered */
};
/*
 * Up to max undelivered notices from the lowest sequence number up,
 * stopping before the first whose record has a migration difference open
 * (hwgw_registry_reconcile): notices stay in order, so that one holds
 * those after it until it is resolved.
 */
int hwgw_registry_outbox(struct hwgw_registry *r, struct reg_notice *out, size_t max, size_t *n,
                         struct hwg_error *err);
/* Mark seq delivered (the CS acknowledged it). */
int hwgw_registry_outbox_done(struct hwgw_registry *r, int64_t seq, struct hwg_error *err);

/* ----------------------------------------------------------- issuance */

#define REG_REQ_SELF 1
#define REG_REQ_HOUSEHOLD 2
#define REG_REQ_PROXY 3
#define REG_REQ_THIRD 4

struct reg_requester {
	int relation;              /* REG_REQ_* */
	const char *resident_code; /* self / household: the requester's own code */
	const char *name;
	const char *letter; /* proxy: the letter of attorney's reference */
};
struct reg_cert_request {
	const char *kind; /* juminhyo, kisai, tenshutsu, inkan */
	const char *subject;
	int household; /* 世帯全員 */
	int my_number; /* the My Number asked for */
	int wide;      /* 広域交付: asked at another city's counter */
	const char *gateway_id;
	const char *day; /* today, YYYY-MM-DD (DV measures in force) */
	struct reg_requester req;
};
/*
 * May req be issued?  0, or the refusal: HWG_E_MY_NUMBER_NOT_ALLOWED,
 * HWG_E_INVALID (kind, letter), HWG_E_NOT_FOUND, HWG_E_NOT_RESIDENT,
 * HWG_E_ISSUANCE_HELD (the person's own held record), HWG_E_NOT_ENTITLED.
 * Every refusal that comes from the state of a record (a DV measure, a
 * control flag, another household) is HWG_E_NOT_ENTITLED with one fixed
 * message for anyone but the person, so that it tells a third party
 * nothing; why[] (may be NULL) gets the real reason for the audit.
 */
int hwgw_registry_may_issue(struct hwgw_registry *r, const struct reg_cert_request *req, char *why,
                            size_t whylen, struct hwg_error *err);

/* The registry's document key: a PEM private key (P-256 or Ed25519), 0600. */
struct reg_signer;
int reg_signer_load(const char *pem_path, const char *client_id, struct reg_signer **out,
                    struct hwg_error *err);

/*
 * Or a key that never leaves an HSM: the P-256 or Ed25519 private key
 * labelled label on the PKCS#11 token token_label, logged in with the PIN
 * in pin_file (0600).  The session stays open until reg_signer_free.
 * HWG_E_NOT_FOUND when the token has no such key pair; HWG_E_HSM when the
 * module or token cannot be used.
 */
int reg_signer_load_pkcs11(const struct reg_p11_key *key, const char *client_id,
                           struct reg_signer **out, struct hwg_error *err);
void reg_signer_free(struct reg_signer *s);

/*
 * Build the cert.issue document for req (may_issue first) from one record
 * version of each person, and sign it: a COSE_Sign1 (kid = the signer's
 * client id) over the deterministic CBOR of cert.issue's "document"
 * (registry/README.md, "The document").
 * *out malloc'd.  now_s is the "built" time.
 */
int hwgw_registry_document(struct hwgw_registry *r, const struct reg_cert_request *req,
                           const struct reg_signer *signer, int64_t now_s, uint8_t **out,
                           size_t *out_len, struct hwg_error *err);

#endif
