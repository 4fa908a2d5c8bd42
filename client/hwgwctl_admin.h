/*
 * hwgwctl_admin.h — hwgwctl's administrative commands.
 *
 * These act on the gateway's state directory directly (the same SQLite
 * store hwgwd uses, opened with its own handle), so they need the
 * daemon's configuration file and must run as the daemon's user.  Every
 * change is written to the audit log in the same transaction, then the
 * running daemon is asked to reload (SIGHUP via <state_dir>/hwgwd.pid).
 */
#ifndef HWGWCTL_ADMIN_H
#define HWGWCTL_ADMIN_H

/* hwgwctl client add|list|remove ... (argv[0] is "client") */
int hwgwctl_cmd_client(int argc, char **argv);
/* hwgwctl audit verify|query ... (argv[0] is "audit") */
int hwgwctl_cmd_audit(int argc, char **argv);

#endif
