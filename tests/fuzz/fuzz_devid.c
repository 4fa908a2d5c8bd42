/*
 * fuzz_devid.c — libFuzzer target for what a certificate printer answers
 * to the USB printer class's control requests (hostile device bytes,
 * drivers/printer/hwg_ieee1284): the input is what GET_DEVICE_ID
 * returned, and the same bytes as GET_PORT_STATUS's answer.  Nothing may
 * crash, and what is accepted must keep the parser's promises: a length
 * field equal to the input's size, MFG and MDL present, every field
 * printable ASCII without ':' or ';' and terminated within its bound.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hwg_ieee1284.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_field(const char *s, int required)
{
	size_t n = strnlen(s, HWG_IEEE1284_VALUE_MAX + 1);

	if (n > HWG_IEEE1284_VALUE_MAX || (required && n == 0))
		abort();
	for (size_t i = 0; i < n; i++)
		if (s[i] < 0x20 || s[i] > 0x7E || s[i] == ':' || s[i] == ';')
			abort();
}

static void
device_id(const uint8_t *data, size_t size)
{
	struct hwg_ieee1284_id id;
	struct hwg_error err = {0};

	if (hwg_ieee1284_parse(data, size, &id, &err) != 0) {
		if (err.code != HWG_E_PRINTER_ERROR)
			abort();
		return;
	}
	if (size < 2 || size > HWG_IEEE1284_ID_MAX || ((size_t)data[0] << 8 | data[1]) != size)
		abort();
	check_field(id.mfg, 1);
	check_field(id.mdl, 1);
	check_field(id.cmd, 0);
	check_field(id.cls, 0);
	check_field(id.des, 0);
	check_field(id.sn, 0);
	if (hwg_ieee1284_pjl_pdf(&id) !=
	    (hwg_ieee1284_has_command(&id, "pjl") && hwg_ieee1284_has_command(&id, "pdf")))
		abort();
}

static void
port_status(const uint8_t *data, size_t size)
{
	struct hwg_prn_port ps;
	int rc = hwg_prn_port_parse(data, size, &ps, NULL);

	if ((rc == 0) != (size == 1))
		abort();
	if (rc == 0 && hwg_prn_port_ready(&ps) != ((data[0] & 0x38) == 0x18))
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	device_id(data, size);
	port_status(data, size);
	return 0;
}
