/*
 * hwgwctl_session.h — operator session tokens for `hwgwctl call`.
 *
 * A session token is a bearer secret: whoever holds it acts as the
 * operator until it ends.  So it never travels on a command line (where
 * every user sees it in the process list): `--session-file FILE` reads
 * it, and `--session-out FILE` writes the one operator.verify returns into
 * a file only its owner may read, instead of printing it.
 */
#ifndef HWGWCTL_SESSION_H
#define HWGWCTL_SESSION_H

#include <cbor.h>

#include "hwg_secret.h"

/*
 * Read the token in path (hex or raw, see hwgw_session_parse; "-" for
 * standard input) into a locked buffer the caller frees.  A file must be
 * a regular file of ours only its owner may read (mode 0600 or stricter,
 * as --session-out writes it).  Prints the problem and returns
 * HWGWCTL_EXIT_ERROR when it cannot.
 */
int hwgwctl_session_read(const char *path, struct hwg_secret **out);

/*
 * operator.verify's result with --session-out: write its "session" as hex
 * to path (created or truncated, mode 0600, ours, a regular file) and set
 * *shown to a copy of the result without it, naming the file instead.
 * Prints the problem and returns HWGWCTL_EXIT_ERROR when it cannot.
 */
int hwgwctl_session_write(const char *path, const cbor_item_t *result, cbor_item_t **shown);

#endif
