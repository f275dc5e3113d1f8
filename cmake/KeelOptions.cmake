# Warning, architecture and sanitizer flags shared by every Keel target.
add_library(keel_options INTERFACE)
target_compile_options(keel_options INTERFACE -Wall -Wextra)
if(KEEL_NATIVE)
  target_compile_options(keel_options INTERFACE -march=native)
endif()
if(KEEL_SANITIZE)
  string(REPLACE ";" "," _keel_san "${KEEL_SANITIZE}")
  target_compile_options(keel_options INTERFACE -fsanitize=${_keel_san} -fno-omit-frame-pointer
                                                -fno-sanitize-recover=all)
  target_link_options(keel_options INTERFACE -fsanitize=${_keel_san})
endif()
# Eigen runs single-threaded inside Keel: parallelism comes from runtime/.
target_compile_definitions(keel_options INTERFACE EIGEN_DONT_PARALLELIZE)

# keel_library(<name> SOURCES ... DEPS ...): one library target per folder, named keel_<name>.
function(keel_library name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS;PRIVATE_DEPS" ${ARGN})
  add_library(keel_${name} STATIC ${ARG_SOURCES})
  add_library(keel::${name} ALIAS keel_${name})
  target_include_directories(keel_${name} PUBLIC ${PROJECT_SOURCE_DIR})
  target_link_libraries(keel_${name} PUBLIC keel_options ${ARG_DEPS} PRIVATE ${ARG_PRIVATE_DEPS})
endfunction()
