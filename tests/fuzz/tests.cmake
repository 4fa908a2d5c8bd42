# Fuzz targets (included by tests/CMakeLists.txt).  One line per target:
#   hwg_fuzz_target(NAME SOURCES <files relative to tests/> LIBS <libraries>)
# where one source defines LLVMFuzzerTestOneInput.  For every target:
#  - NAME_replay, always built: replays tests/fuzz/corpus/NAME/ (seeds and
#    saved crashers) as a ctest labelled "fuzz;api", so they run in
#    `make check` and under the sanitizers;
#  - NAME, with -DHWG_FUZZ=ON (clang): the libFuzzer binary that
#    scripts/fuzz runs.
function(hwg_fuzz_target name)
  cmake_parse_arguments(F "" "" "SOURCES;LIBS" ${ARGN})
  if(NOT F_SOURCES)
    message(FATAL_ERROR "hwg_fuzz_target(${name}): no SOURCES")
  endif()
  add_executable(${name}_replay fuzz/replay_main.c ${F_SOURCES})
  target_include_directories(${name}_replay PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/fuzz)
  target_link_libraries(${name}_replay PRIVATE ${F_LIBS})
  add_test(NAME ${name}_replay
           COMMAND ${name}_replay ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/corpus/${name})
  set_tests_properties(${name}_replay PROPERTIES LABELS "fuzz;api" TIMEOUT 300
    ENVIRONMENT "HWG_SOURCE_DIR=${PROJECT_SOURCE_DIR};HWG_BUILD_DIR=${PROJECT_BINARY_DIR}")
  if(HWG_FUZZ)
    add_executable(${name} ${F_SOURCES})
    target_include_directories(${name} PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/fuzz)
    target_link_options(${name} PRIVATE -fsanitize=fuzzer)
    target_link_libraries(${name} PRIVATE ${F_LIBS})
  endif()
endfunction()

hwg_fuzz_target(fuzz_envelope SOURCES fuzz/fuzz_envelope.c fuzz/fuzz_keys.c LIBS hwg_gwshared)
hwg_fuzz_target(fuzz_http SOURCES fuzz/fuzz_http.c LIBS hwg_gwpriv hwg_gwnet)

# The envelope seeds: `fuzz_make_seeds tests/fuzz/corpus/fuzz_envelope`
# rewrites them; the test checks that ok-* still verify with the fixed
# keys and bad-* are still refused.
add_executable(fuzz_make_seeds fuzz/make_seeds.c fuzz/fuzz_keys.c)
target_link_libraries(fuzz_make_seeds PRIVATE hwg_crypto)
add_test(NAME fuzz_envelope_seeds
         COMMAND fuzz_make_seeds --check ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/corpus/fuzz_envelope)
set_tests_properties(fuzz_envelope_seeds PROPERTIES LABELS "fuzz;api" TIMEOUT 60)

# Cards: the BER reader and the input-support files (drivers/card).
hwg_fuzz_target(fuzz_ber SOURCES fuzz/fuzz_ber.c LIBS hwg_cardparse)
hwg_fuzz_target(fuzz_card_info SOURCES fuzz/fuzz_card_info.c LIBS hwg_cardparse)

# Vein terminals: what a terminal sends over USB (drivers/vein/hwg_vein_proto).
# The seeds are the simulated terminal's answers: `fuzz_vein_seeds
# tests/fuzz/corpus/fuzz_vein_frame` rewrites them; the test checks that
# each still decodes and parses.
hwg_fuzz_target(fuzz_vein_frame SOURCES fuzz/fuzz_vein_frame.c LIBS hwg_veinproto)
add_executable(fuzz_vein_seeds fuzz/make_vein_seeds.c)
target_link_libraries(fuzz_vein_seeds PRIVATE hwsim_vein)
add_test(NAME fuzz_vein_seeds
         COMMAND fuzz_vein_seeds --check ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/corpus/fuzz_vein_frame)
set_tests_properties(fuzz_vein_seeds PROPERTIES LABELS "fuzz;vein" TIMEOUT 60)

# Certificate printers (drivers/printer/hwg_printerproto): the device ID and
# port status a printer answers to class requests, and the PJL it sends on
# bulk IN, read through the accumulator in the reads the input's first byte
# chooses and compared with the same bytes read at once.  The seeds are made
# by hand: test_printer_proto's device IDs and read-backs (each kind, cut
# and joined, each refusal) and firmware-notes/certificate-printer.md's
# examples.
hwg_fuzz_target(fuzz_devid SOURCES fuzz/fuzz_devid.c LIBS hwg_printerproto)
hwg_fuzz_target(fuzz_pjl SOURCES fuzz/fuzz_pjl.c LIBS hwg_printerproto)
set_tests_properties(fuzz_devid_replay fuzz_pjl_replay PROPERTIES LABELS "fuzz;print")

# Requests and arguments: the payload map a client signed
# (gateway/shared/hwg_request.c) and each operation's argument schema
# (gateway/shared/hwg_schema.c over the table of gateway/shared/hwg_optable.c).  The seeds:
# `fuzz_request_seeds request|args DIR` rewrites them; the tests check
# that ok-* are accepted and the others refused with their code.
hwg_fuzz_target(fuzz_request SOURCES fuzz/fuzz_request.c LIBS hwg_gwshared)
hwg_fuzz_target(fuzz_args SOURCES fuzz/fuzz_args.c LIBS hwg_gwshared)
add_executable(fuzz_request_seeds fuzz/make_request_seeds.c)
target_link_libraries(fuzz_request_seeds PRIVATE hwg_gwshared)
foreach(kind request args)
  add_test(NAME fuzz_${kind}_seeds
           COMMAND fuzz_request_seeds --check ${kind} ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/corpus/fuzz_${kind})
  set_tests_properties(fuzz_${kind}_seeds PROPERTIES LABELS "fuzz;api" TIMEOUT 60)
endforeach()

# hwgwctl --session-file: any file a user names (client/hwgwctl_session.c).
# The seeds are test_client's and test_session_file's inputs, made by hand.
hwg_fuzz_target(fuzz_session_file SOURCES fuzz/fuzz_session_file.c LIBS hwgwctl_session)

# hwgwd.conf through hwg_config_parse_string (gateway/shared/hwg_config.c).  The
# seeds are hwgwd.conf.example and the configurations test_config and the
# integration tests (tests/lib/*env.sh) write, made by hand.
hwg_fuzz_target(fuzz_config SOURCES fuzz/fuzz_config.c LIBS hwg_gwshared)

# The Unix socket's framing (gateway/net/hwg_frame.c, fed by hwg_unix.c).  The
# seeds are the envelope seeds in frames as the api tests send them
# (whole, a byte at a time, pipelined, cut short) and the limit's edges,
# made by hand; fuzz_unix_frame.c says how an input is laid out.
hwg_fuzz_target(fuzz_unix_frame SOURCES fuzz/fuzz_unix_frame.c LIBS hwg_gwnet)

# The My Number card's answers (drivers/card/hwg_mynumber.c) with the
# card behind hwg_card_transmit played by fuzz_apdu.c instead of pcscd
# (hwg_pcsc.c is not linked).  The seeds: `fuzz_apdu_seeds DIR` records
# hwsim's card engine answering each operation and adds a few answers by
# hand; the test replays each and expects the outcome its name gives.
set(HWG_MYNUMBER_SRC ${PROJECT_SOURCE_DIR}/drivers/card/hwg_mynumber.c)
hwg_fuzz_target(fuzz_apdu SOURCES fuzz/fuzz_apdu.c ${HWG_MYNUMBER_SRC} LIBS hwg_cardparse)
add_executable(fuzz_apdu_seeds fuzz/make_apdu_seeds.c fuzz/fuzz_apdu.c ${HWG_MYNUMBER_SRC})
target_include_directories(fuzz_apdu_seeds PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/fuzz)
target_link_libraries(fuzz_apdu_seeds PRIVATE hwsim_core hwg_cardparse)
add_test(NAME fuzz_apdu_seeds
         COMMAND fuzz_apdu_seeds --check ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/corpus/fuzz_apdu)
set_tests_properties(fuzz_apdu_seeds PROPERTIES LABELS "fuzz;card" TIMEOUT 60)

# The link between hwgwd's processes (gateway/shared/hwg_msg.c): the verdicts the
# privileged process reads from the net process, which privilege
# separation treats as taken over, and the replies going back.  The seeds:
# `fuzz_verdict_seeds DIR` rewrites them; the test checks that ok-* decode
# and bad-* are refused.
hwg_fuzz_target(fuzz_verdict SOURCES fuzz/fuzz_verdict.c LIBS hwg_gwshared)
add_executable(fuzz_verdict_seeds fuzz/make_verdict_seeds.c)
target_link_libraries(fuzz_verdict_seeds PRIVATE hwg_gwshared)
add_test(NAME fuzz_verdict_seeds
         COMMAND fuzz_verdict_seeds --check ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/corpus/fuzz_verdict)
set_tests_properties(fuzz_verdict_seeds PROPERTIES LABELS "fuzz;api" TIMEOUT 60)

# What libhwgw reads back from a gateway (client/hwgw.c), signed inside
# the target with fuzz_keys.c's key so that mutants reach the response
# parser; and hwgwctl's JSON <-> CBOR (client/hwgw_json.c).  Their seeds
# are made by hand: responses as the gateway answers (a result, an error
# with tries, another request's hash), and the argument files the tests
# write.
hwg_fuzz_target(fuzz_response SOURCES fuzz/fuzz_response.c fuzz/fuzz_keys.c
                LIBS hwgw hwgw_json hwg_crypto)
hwg_fuzz_target(fuzz_json SOURCES fuzz/fuzz_json.c LIBS hwgw_json)

# The keyholder's messages, both ways (gateway/keyholder/hwg_kh_proto.c):
# requests it decodes, the check of what it is asked to sign, and what the
# privileged process decodes from it.  Seeds: `fuzz_keyholder_seeds DIR`.
hwg_fuzz_target(fuzz_keyholder SOURCES fuzz/fuzz_keyholder.c LIBS hwg_keyholder_client)
add_executable(fuzz_keyholder_seeds fuzz/make_keyholder_seeds.c)
target_link_libraries(fuzz_keyholder_seeds PRIVATE hwg_kh_proto)
add_test(NAME fuzz_keyholder_seeds COMMAND fuzz_keyholder_seeds ${CMAKE_CURRENT_BINARY_DIR})
set_tests_properties(fuzz_keyholder_seeds PROPERTIES LABELS "fuzz;api" TIMEOUT 60)

# The renderer's messages (gateway/renderer/hwg_rd_proto.c): the render
# request it decodes, and the REPLY and READY the privileged process decodes
# from it; the first byte picks the decoder.  And the glyph table it reads
# before its filter (hwg_gaiji.c).  Seeds made by hand: requests of each
# kind, a household, a reprint, 外字, each refusal test_render names; replies
# with a PDF and with an error, READY both ways; tables of each line kind
# and each refusal.
hwg_fuzz_target(fuzz_render_request SOURCES fuzz/fuzz_render_request.c LIBS hwg_rd_proto)
hwg_fuzz_target(fuzz_gaiji_table SOURCES fuzz/fuzz_gaiji_table.c LIBS hwg_render)
set_tests_properties(fuzz_render_request_replay fuzz_gaiji_table_replay PROPERTIES
                     LABELS "fuzz;print")

# A certificate's verification code (crypto/hwg_certcode.c): its text as
# printed (base45 and the signed summary, checked with fuzz_keys.c's P-256
# key), or a summary's payload signed inside the target with that key so
# that mutants reach the summary decoder; fuzz_certcode.c says how an
# input is laid out.  The seeds are made by hand: RFC 9285's examples and
# refusals behind "HWC1:", summaries with and without "orig", each
# refusal of the decoder, and one code signed by fuzz_keys.c's key.
hwg_fuzz_target(fuzz_certcode SOURCES fuzz/fuzz_certcode.c fuzz/fuzz_keys.c LIBS hwg_crypto)
set_tests_properties(fuzz_certcode_replay PROPERTIES LABELS "fuzz;print")

# The document cert.issue carries (gateway/shared/hwg_certdoc.c): a payload
# signed inside the target with fuzz_keys.c's Ed25519 key as the registry,
# so that mutants reach the shape, digest and field checks, or the signed
# document whole; fuzz_certdoc.c says how an input is laid out.  The seeds
# are made by hand: a household's 住民票の写し and one certificate of each
# kind, one document with each refusal of hwg_certdoc_check, and signed
# documents (by fuzz_keys.c's key, by another key, without a kid).
hwg_fuzz_target(fuzz_certdoc SOURCES fuzz/fuzz_certdoc.c fuzz/fuzz_keys.c LIBS hwg_gwshared)
set_tests_properties(fuzz_certdoc_replay PROPERTIES LABELS "fuzz;print")

# The register's CSV reader (registry/reg_csv.c): legacy exports to
# reconcile and move-out feeds, in the encoding the first byte declares
# ('s' Shift_JIS, else UTF-8).  The seeds are made by hand: each refusal
# test_reg_csv names, a Shift_JIS export, a shifted export.
hwg_fuzz_target(fuzz_csv SOURCES fuzz/fuzz_csv.c LIBS hwgw-registry)
set_tests_properties(fuzz_csv_replay PROPERTIES LABELS "fuzz;registry")
