# Every dependency comes from a Debian package; nothing is downloaded at build time.
# keel_require(<find_package name> <debian package> [find_package args...])
macro(keel_require name debian_package)
  find_package(${name} ${ARGN} QUIET)
  if(NOT ${name}_FOUND)
    message(FATAL_ERROR
      "Keel needs ${name}, which was not found.\n"
      "On Debian/Ubuntu install it with:  apt-get install ${debian_package}\n"
      "(or run scripts/install-deps.sh, which installs everything Keel needs).")
  endif()
endmacro()

keel_require(Eigen3 libeigen3-dev 3.3 NO_MODULE)
keel_require(nlohmann_json nlohmann-json3-dev 3.10)
keel_require(box2d libbox2d-dev)
keel_require(TBB libtbb-dev)
keel_require(CLI11 libcli11-dev)
find_package(Threads REQUIRED)
if(KEEL_BUILD_TESTS)
  keel_require(GTest "libgtest-dev libgmock-dev")
endif()
if(KEEL_BUILD_BENCH)
  keel_require(benchmark libbenchmark-dev)
endif()
