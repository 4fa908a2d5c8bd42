# Integration tests: real hwgwd, real SoftHSM2 token, real sockets.
add_executable(test_api integration/test_api.c)
target_include_directories(test_api PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/lib)
target_link_libraries(test_api PRIVATE hwgw hwg_common PkgConfig::SQLITE)

# HWG_TIMEOUT_SCALE: every integration test's time limit multiplied
# (scripts/memcheck sets 6: hwgwd under valgrind).
set(HWG_TIMEOUT_SCALE 1 CACHE STRING "integration test time limits multiplied by this")
math(EXPR HWG_T300 "300 * ${HWG_TIMEOUT_SCALE}")
math(EXPR HWG_T600 "600 * ${HWG_TIMEOUT_SCALE}")
math(EXPR HWG_T900 "900 * ${HWG_TIMEOUT_SCALE}")

function(hwg_shell_test name script labels)
  add_test(NAME ${name} COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/integration/${script})
  set_tests_properties(${name} PROPERTIES LABELS "integration;${labels}" TIMEOUT ${HWG_T300}
    ENVIRONMENT "HWG_SOURCE_DIR=${PROJECT_SOURCE_DIR};HWG_BUILD_DIR=${PROJECT_BINARY_DIR}")
endfunction()

hwg_shell_test(api_refusals test_api.sh api)
# The front door as an attacker sees it (issue 13): slow clients, framing,
# URL, UTF-8, tag, time, Origin, expiry and request.status.
add_executable(test_frontdoor integration/test_frontdoor.c)
target_include_directories(test_frontdoor PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/lib)
target_link_libraries(test_frontdoor PRIVATE hwgw hwg_crypto hwg_common PkgConfig::SQLITE)
hwg_shell_test(api_frontdoor test_frontdoor.sh api)
set_tests_properties(api_frontdoor PROPERTIES SKIP_RETURN_CODE 77)
hwg_shell_test(api_startup test_startup.sh api)
hwg_shell_test(api_audit_cli test_audit_cli.sh api)
hwg_shell_test(api_http test_http.sh api)
hwg_shell_test(api_disk_full test_disk_full.sh "api;fault")
hwg_shell_test(api_privsep test_privsep.sh "api;fault")
hwg_shell_test(api_keyholder test_keyholder.sh "api;fault")
# Certificates: the seal key in gw.info and hwgwctl cert seal-key; registry and supervisor roles.
hwg_shell_test(api_cert_client test_cert_client.sh "api;print")
set_tests_properties(api_disk_full PROPERTIES SKIP_RETURN_CODE 77)

# Cards: a private pcscd (vpcd driver) and hwsim in the test's own
# namespaces (tests/lib/cardenv.sh); skipped (77) without root.
foreach(t ops pin removal trust race)
  hwg_shell_test(card_${t} test_card_${t}.sh card)
  set_tests_properties(card_${t} PROPERTIES SKIP_RETURN_CODE 77)
endforeach()

# A resident's visit through hwgw-counter (issue 16): cards, terminal and
# printer on one hwsim, a real pcscd and hwgwd, a register on SQLite.
hwg_shell_test(visit test_visit.sh "visit;card;print")
set_tests_properties(visit PROPERTIES SKIP_RETURN_CODE 77)
# make demo's visit (scripts/demo), its printed certificate read back.
hwg_shell_test(visit_demo test_demo.sh "visit;card;print")
set_tests_properties(visit_demo PROPERTIES SKIP_RETURN_CODE 77)

# Faults at every step of the card operations: hwgwd and pcscd SIGKILLed at
# each APDU, the store's two steps locked or full, the HSM token gone.
hwg_shell_test(fault_card test_fault_card.sh "card;fault")
set_tests_properties(fault_card PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT ${HWG_T600})

# The soak: 10,000 mixed requests from 16 clients with random faults.
add_executable(soak_driver integration/soak_driver.c)
target_link_libraries(soak_driver PRIVATE hwgw hwg_common PkgConfig::SQLITE Threads::Threads)
hwg_shell_test(fault_soak test_soak.sh "card;fault;soak")
set_tests_properties(fault_soak PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT ${HWG_T900})

# Palm-vein terminals: the driver through libusb against hwsim on
# umockdev's simulated USB bus.
add_executable(test_vein_usb integration/test_vein_usb.c)
target_include_directories(test_vein_usb PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/lib)
target_link_libraries(test_vein_usb PRIVATE hwg_vein hwsim_io)
hwg_shell_test(vein_usb test_vein_usb.sh vein)
# Certificate printers: the driver through libusb against hwsim's printer
# on the same simulated bus.
add_executable(test_printer_usb integration/test_printer_usb.c)
target_include_directories(test_printer_usb PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/lib)
target_link_libraries(test_printer_usb PRIVATE hwg_printer hwsim_io)
hwg_shell_test(print_usb test_printer_usb.sh print)
# Operator sessions through hwgwctl (no terminal needed).
hwg_shell_test(vein_session_cli test_session_cli.sh vein)
hwg_shell_test(vein_identify test_vein_identify.sh vein)
# Operators through hwgwd: enrolment, verification, refusals, sessions.
hwg_shell_test(vein_ops test_vein_ops.sh vein)
hwg_shell_test(vein_sessions test_vein_sessions.sh vein)
# Faults under vein operations: disk full (a tmpfs), HSM token gone, SIGKILL
# mid-capture; skipped (77) without root for the tmpfs.
hwg_shell_test(fault_vein test_fault_vein.sh "vein;fault")
set_tests_properties(fault_vein PROPERTIES SKIP_RETURN_CODE 77)
# Socket activation as hwgwd.socket does it (systemd-socket-activate); skipped
# (77) without the systemd package.
hwg_shell_test(deploy_socket_activation test_socket_activation.sh "deploy;api")
set_tests_properties(deploy_socket_activation PROPERTIES SKIP_RETURN_CODE 77)
# make install into a staging root, and an application built against it
# with pkg-config only.
hwg_shell_test(deploy_install test_install.sh deploy)
set_tests_properties(deploy_install PROPERTIES LABELS deploy TIMEOUT 600)
# The units (systemd-analyze verify, the security exposure printed), the udev
# rule, sysusers.d and tmpfiles.d entries; the man pages (groff -ww).
hwg_shell_test(deploy_units test_units.sh deploy)
hwg_shell_test(deploy_man test_man.sh deploy)
set_tests_properties(deploy_units deploy_man PROPERTIES LABELS deploy SKIP_RETURN_CODE 77)

# The fault tests strike at a gateway's step they wait for (a capture
# answered, the store reached, the n-th APDU) and card_removal swaps cards
# between two operations: another test's load beside them (above all under
# ASan) moves those steps, so they run alone.
set_tests_properties(fault_card fault_vein fault_soak card_removal api_keyholder
                     PROPERTIES RUN_SERIAL TRUE)
# The register on a PostgreSQL server of its own (tests/lib/pgenv.sh);
# skipped (77) when the machine cannot run one.
hwg_shell_test(registry_pg test_registry_pg.sh registry)
set_tests_properties(registry_pg PROPERTIES SKIP_RETURN_CODE 77)
# The outbox sender against hwsim's simulated CS: killed with the CS away
# and between the CS's record and its answer, a CS that fails and returns;
# on SQLite and, where a server can run, PostgreSQL.
hwg_shell_test(registry_outbox test_registry_outbox.sh registry)
# A city of counters (issue 16): four counters, each its own hwgwd, hwsim,
# pcscd and namespaces, running visits at once on one PostgreSQL register
# (tests/lib/cityenv.sh); skipped (77) without root or a PostgreSQL server.
# Twelve processes a counter on two cores: it runs alone.
hwg_shell_test(city test_city.sh "city;registry;visit")
set_tests_properties(city PROPERTIES SKIP_RETURN_CODE 77 RUN_SERIAL TRUE TIMEOUT ${HWG_T600})
# Certificates through a running gateway (issue 14): make_certdoc makes the
# registry's documents and checks a spooled page's text; tests/lib/certenv.sh
# runs the gateway with hwsim's terminal and printer on one simulated bus.
add_executable(make_certdoc integration/make_certdoc.c)
target_link_libraries(make_certdoc PRIVATE hwg_gwshared hwg_crypto hwg_render)
# A certificate issued, its text, QR code and seal; every refusal; a retry;
# a reprint; the renderer's descriptors and maps in the running gateway.
hwg_shell_test(cert_issue test_cert_issue.sh print)
# Paper out, jams at pages 1 and 2, the printer vanishing, the renderer killed.
hwg_shell_test(cert_faults test_cert_faults.sh "print;fault")
# hwgwd SIGKILLed at each journal state (reserved, rendered, sealed, sent) and
# restarted; it stops hwsim for a moment, so the bus is all its own.
hwg_shell_test(cert_crash test_cert_crash.sh "print;fault")
set_tests_properties(cert_issue cert_faults cert_crash PROPERTIES RUN_SERIAL TRUE)

# What the group commit could break (issue 17): a SIGKILL under load,
# one nonce twice in a batch, a disk filling mid-batch.
add_executable(batch_driver integration/batch_driver.c)
target_link_libraries(batch_driver PRIVATE hwgw hwg_common Threads::Threads)
hwg_shell_test(api_batch test_batch.sh "api;fault")
set_tests_properties(api_batch PROPERTIES SKIP_RETURN_CODE 77)
