# Fuzz targets.  hwg_fuzz_target(NAME SOURCES ... LIBS ...) builds, for
# every target:
#  - NAME_replay (always): the target's corpus in tests/fuzz/corpus/NAME
#    replayed as a ctest (labels fuzz;api), so seeds and saved crashers run
#    in `make check` and under the sanitizers;
#  - NAME (with -DHWG_FUZZ=ON and clang): the libFuzzer binary that
#    scripts/fuzz runs.
function(hwg_fuzz_target name)
  cmake_parse_arguments(F "" "" "SOURCES;LIBS" ${ARGN})
  add_executable(${name}_replay fuzz/replay_main.c ${F_SOURCES})
  target_link_libraries(${name}_replay PRIVATE ${F_LIBS})
  add_test(NAME ${name}_replay
           COMMAND ${name}_replay ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/corpus/${name})
  set_tests_properties(${name}_replay PROPERTIES LABELS "fuzz;api" TIMEOUT 300
    ENVIRONMENT "HWG_SOURCE_DIR=${PROJECT_SOURCE_DIR};HWG_BUILD_DIR=${PROJECT_BINARY_DIR}")
  if(HWG_FUZZ)
    add_executable(${name} ${F_SOURCES})
    target_link_options(${name} PRIVATE -fsanitize=fuzzer)
    target_link_libraries(${name} PRIVATE ${F_LIBS})
  endif()
endfunction()

hwg_fuzz_target(fuzz_envelope SOURCES fuzz/fuzz_envelope.c LIBS hwg_gwcore)
hwg_fuzz_target(fuzz_http SOURCES fuzz/fuzz_http.c LIBS hwg_gwcore)
