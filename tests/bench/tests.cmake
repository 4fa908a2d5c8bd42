# Benchmarks: built with everything, run by `make bench` (scripts/bench), not by ctest.
add_executable(bench_api bench/bench_api.c)
target_link_libraries(bench_api PRIVATE hwgw PkgConfig::MHD Threads::Threads)
add_executable(bench_card bench/bench_card.c)
target_link_libraries(bench_card PRIVATE hwgw hwg_common PkgConfig::PCSC)
add_executable(bench_match bench/bench_match.c)
target_link_libraries(bench_match PRIVATE hwg_match hwsim_palm hwg_common)
