#!/bin/sh
# tests/integration/test_registry_pg.sh — test_registry (every rule of
# the register, eight concurrent writers) on PostgreSQL: a server of the
# test's own (tests/lib/pgenv.sh), stopped and removed at the end.
: "${HWG_SOURCE_DIR:?}" "${HWG_BUILD_DIR:?}"
. "$HWG_SOURCE_DIR/tests/lib/pgenv.sh"

pg_start
rc=$?
[ $rc -eq 0 ] || exit $rc
trap pg_stop EXIT
HWG_REGISTRY_PG="host=$PG_DIR user=hwgw dbname=postgres" "$HWG_BUILD_DIR/tests/test_registry"
