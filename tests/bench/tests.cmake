# Benchmarks: built with everything, run by `make bench` (scripts/bench), not by ctest.
add_executable(bench_api bench/bench_api.c)
target_link_libraries(bench_api PRIVATE hwgw hwg_common PkgConfig::MHD PkgConfig::CURL Threads::Threads)
add_executable(bench_card bench/bench_card.c)
target_link_libraries(bench_card PRIVATE hwgw hwg_common PkgConfig::PCSC)
add_executable(bench_match bench/bench_match.c)
target_link_libraries(bench_match PRIVATE hwg_match hwsim_palm hwg_common)
add_executable(bench_keyholder bench/bench_keyholder.c)
target_include_directories(bench_keyholder PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/lib)
target_link_libraries(bench_keyholder PRIVATE hwg_keyholder_client hwg_hsm Threads::Threads)
add_dependencies(bench_keyholder hwgw-keyholder)
add_executable(bench_render bench/bench_render.c)
target_include_directories(bench_render PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/lib)
target_link_libraries(bench_render PRIVATE hwg_render hwg_renderer_client)
add_dependencies(bench_render hwgw-renderer)

# The register at a city's size (scripts/bench-registry: SQLite, then PostgreSQL).
add_executable(bench_registry bench/bench_registry.c)
target_link_libraries(bench_registry PRIVATE hwgw-registry)
