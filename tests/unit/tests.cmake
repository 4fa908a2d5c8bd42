# One line per unit test: hwg_unit_test(<file stem> LIBS <libs> LABELS <areas>)
hwg_unit_test(test_buf LIBS hwg_common LABELS api)
hwg_unit_test(test_file LIBS hwg_common LABELS api)
hwg_unit_test(test_cbor LIBS hwg_common LABELS api)
hwg_unit_test(test_backoff LIBS hwg_common LABELS api)
hwg_unit_test(test_pool LIBS hwg_common LABELS api)
hwg_unit_test(test_p11 LIBS hwg_hsm LABELS api vein)
target_include_directories(test_p11 PRIVATE ${P11KIT_INCLUDE_DIRS}) # make_secret calls the module
hwg_unit_test(test_cose LIBS hwg_crypto LABELS api)
hwg_unit_test(test_store LIBS hwg_gwstate LABELS api)
hwg_unit_test(test_audit LIBS hwg_gwstate LABELS api)
hwg_unit_test(test_ops LIBS hwg_gwops LABELS api)
hwg_unit_test(test_request LIBS hwg_gwshared LABELS api)
hwg_unit_test(test_frame LIBS hwg_gwnet LABELS api)
hwg_unit_test(test_msg LIBS hwg_gwstate hwgw LABELS api)
hwg_unit_test(test_client LIBS hwgw hwgw_json LABELS api)
hwg_unit_test(test_card_parse LIBS hwg_card LABELS card)
hwg_unit_test(test_simcard LIBS hwsim_core hwsim_io LABELS card)
hwg_unit_test(test_x509 LIBS hwg_crypto LABELS card)
hwg_unit_test(test_operators LIBS hwg_gwstate LABELS vein)
hwg_unit_test(test_config LIBS hwg_gwshared LABELS vein)
hwg_unit_test(test_sessions LIBS hwg_gwpriv hwgw LABELS vein)
hwg_unit_test(test_templates LIBS hwg_templates LABELS vein)
hwg_unit_test(test_vein_proto LIBS hwg_veinproto LABELS vein)
hwg_unit_test(test_simvein LIBS hwsim_vein LABELS vein)
hwg_unit_test(test_match LIBS hwg_match hwsim_palm LABELS vein)
hwg_unit_test(test_session_file LIBS hwgwctl_session LABELS vein)
hwg_unit_test(test_printer_proto LIBS hwg_printerproto LABELS print)
hwg_unit_test(test_issuance LIBS hwg_gwstate LABELS api print)
hwg_unit_test(test_cert_ops LIBS hwg_gwops LABELS api print)
hwg_unit_test(test_cert_core LIBS hwg_gwpriv hwgw LABELS api print)
hwg_unit_test(test_unix_inherit LIBS hwg_gwnet LABELS api deploy)
# The layout: include rules by folder, and what each process links and maps.
add_test(NAME test_layout COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/layout/test_layout.sh)
set_tests_properties(test_layout PROPERTIES LABELS "unit;api;deploy" TIMEOUT 120
  ENVIRONMENT "HWG_SOURCE_DIR=${PROJECT_SOURCE_DIR};HWG_BUILD_DIR=${PROJECT_BINARY_DIR}")
hwg_unit_test(test_kh_proto LIBS hwg_kh_proto LABELS api)
# the keyholder's tests run the hwgw-keyholder built beside hwgwd
hwg_unit_test(test_keyholder LIBS hwg_keyholder_client hwg_gwstate LABELS api)
add_dependencies(test_keyholder hwgw-keyholder)
hwg_unit_test(test_keyholder_fault LIBS hwg_keyholder_client LABELS api fault)
add_dependencies(test_keyholder_fault hwgw-keyholder)
# The register (registry/): every rule on SQLite here, on PostgreSQL in
# registry_pg (tests/integration/test_registry_pg.sh, the same binary).
hwg_unit_test(test_registry LIBS hwgw-registry LABELS registry)
hwg_unit_test(test_simprinter LIBS hwsim_printer LABELS print)
# The certificate renderer (gateway/renderer): the layout in this process,
# and hwgw-renderer as the privileged process starts it.
hwg_unit_test(test_render LIBS hwg_render LABELS print)
hwg_unit_test(test_renderer LIBS hwg_renderer_client LABELS print)
add_dependencies(test_renderer hwgw-renderer)
# 77: a tool (pdftotext, pdftoppm, zbarimg), the font or /proc/PID/io is missing
set_tests_properties(test_render test_renderer PROPERTIES SKIP_RETURN_CODE 77)

# Roles: names, client and operator roles, what the table allows a registry (nothing).
hwg_unit_test(test_roles LIBS hwg_gwshared LABELS api)
# Certificates: the verification code (base45, summary, seal) and the PDF seal.
hwg_unit_test(test_certcode LIBS hwg_crypto LABELS print)
# Certificates: the document cert.issue carries (gateway/shared/hwg_certdoc).
hwg_unit_test(test_certdoc LIBS hwg_gwshared LABELS print)
# hwgwctl cert verify: codes signed in the test, drawn with libqrencode and cairo into a
# PNG and a PDF, read back by the scanner and checked by the real hwgwctl.
if(NOT TARGET PkgConfig::QRENCODE)
  pkg_check_modules(QRENCODE REQUIRED IMPORTED_TARGET libqrencode)
endif()
hwg_unit_test(test_client_cert LIBS hwgwctl_scan hwg_crypto PkgConfig::QRENCODE LABELS print)
add_dependencies(test_client_cert hwgwctl)

hwg_unit_test(test_reg_csv LIBS hwgw-registry LABELS registry)
