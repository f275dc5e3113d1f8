include(GoogleTest)
# keel_test(<name> LABELS ... SOURCES ... DEPS ...): one GoogleTest binary; every TEST in it becomes
# a ctest test carrying LABELS. Labels: unit (fast suite), learning (short learning runs CI keeps),
# fidelity (statistical env checks), slow (long runs CI skips: `ctest -L slow` runs them).
function(keel_test name)
  cmake_parse_arguments(ARG "" "TIMEOUT" "SOURCES;DEPS;LABELS" ${ARGN})
  if(NOT ARG_LABELS)
    set(ARG_LABELS unit)
  endif()
  if(NOT ARG_TIMEOUT)
    set(ARG_TIMEOUT 300)
  endif()
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE ${ARG_DEPS} GTest::gtest GTest::gtest_main keel_options)
  target_compile_definitions(${name} PRIVATE
    KEEL_TEST_DATA_DIR="${PROJECT_SOURCE_DIR}/tests/data"
    KEEL_SOURCE_DIR="${PROJECT_SOURCE_DIR}"
    KEEL_BINARY_DIR="${PROJECT_BINARY_DIR}")
  gtest_discover_tests(${name} PROPERTIES LABELS "${ARG_LABELS}" TIMEOUT ${ARG_TIMEOUT}
                       DISCOVERY_TIMEOUT 60)
endfunction()
