/*
 * hwgwctl_cert.h — hwgwctl's certificate commands: check a printed
 * certificate's verification code offline with the gateway's public seal
 * key (`cert verify`), and keep that key from a verified gw.info answer
 * (`cert seal-key`).  Neither talks to a gateway or opens its store.
 */
#ifndef HWGWCTL_CERT_H
#define HWGWCTL_CERT_H

/* hwgwctl cert verify|seal-key ... (argv[0] is "cert") */
int hwgwctl_cmd_cert(int argc, char **argv);

#endif
