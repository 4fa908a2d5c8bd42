/*
 * hwg_ids.c — the identifier grammars every process checks the same way
 * (see hwg_ids.h).
 */
#include "hwg_ids.h"

#include "hwg_clients.h"

int
hwg_operator_id_valid(const char *id)
{
	/* the same alphabet and length as client ids */
	return hwg_client_id_valid(id);
}
