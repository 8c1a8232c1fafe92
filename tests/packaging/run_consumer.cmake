# Builds and runs a consumer project against this build of coronet.
# Run by ctest as: cmake -DMODE=... -D... -P run_consumer.cmake
#
#   MODE                find_package: install this build into a prefix under
#                       WORK_DIR and consume it with find_package(coronet);
#                       add_subdirectory: consume the source tree directly.
#   CORONET_SOURCE_DIR  coronet's source tree
#   CORONET_BINARY_DIR  the build to install (find_package mode)
#   WORK_DIR            scratch directory, wiped first
#   GENERATOR, MAKE_PROGRAM, CXX_COMPILER, CONFIG  taken from the outer build
#
# Nothing here uses the network.

cmake_minimum_required(VERSION 3.20)

foreach(var MODE CORONET_SOURCE_DIR WORK_DIR GENERATOR CXX_COMPILER)
  if(NOT DEFINED ${var} OR "${${var}}" STREQUAL "")
    message(FATAL_ERROR "run_consumer.cmake: ${var} is not set")
  endif()
endforeach()
if(NOT MODE MATCHES "^(find_package|add_subdirectory)$")
  message(FATAL_ERROR "run_consumer.cmake: unknown MODE '${MODE}'")
endif()
if("${CONFIG}" STREQUAL "")
  set(CONFIG Release)
endif()

function(run step)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE result COMMAND_ECHO STDOUT)
  if(NOT result EQUAL 0)
    message(FATAL_ERROR "${MODE} consumer: ${step} failed (${result})")
  endif()
endfunction()

file(REMOVE_RECURSE "${WORK_DIR}")
set(prefix "${WORK_DIR}/prefix")
set(build "${WORK_DIR}/build")

set(configure_args
  -S "${CORONET_SOURCE_DIR}/tests/packaging/${MODE}"
  -B "${build}"
  -G "${GENERATOR}"
  "-DCMAKE_CXX_COMPILER=${CXX_COMPILER}"
  -DCMAKE_BUILD_TYPE=Release
  -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF
  -DCMAKE_FIND_USE_SYSTEM_PACKAGE_REGISTRY=OFF)
if(MAKE_PROGRAM)
  list(APPEND configure_args "-DCMAKE_MAKE_PROGRAM=${MAKE_PROGRAM}")
endif()

if(MODE STREQUAL "find_package")
  if("${CORONET_BINARY_DIR}" STREQUAL "")
    message(FATAL_ERROR "run_consumer.cmake: CORONET_BINARY_DIR is not set")
  endif()
  run(install "${CMAKE_COMMAND}" --install "${CORONET_BINARY_DIR}"
    --prefix "${prefix}" --config "${CONFIG}")
  list(APPEND configure_args "-DCMAKE_PREFIX_PATH=${prefix}")
else()
  # Unoptimised (-O0): this checks how a parent project builds coronet from
  # source, with warnings as errors; the default preset compiles the library at
  # -O3 (CMakePresets.json), where g++'s optimiser warns differently. At -O3
  # here it took 220 s of CI's time, the longest of its tests.
  list(APPEND configure_args "-DCORONET_SOURCE_DIR=${CORONET_SOURCE_DIR}" -DCORONET_WERROR=ON
    "-DCMAKE_CXX_FLAGS_RELEASE=-O0 -DNDEBUG")
endif()

run(configure "${CMAKE_COMMAND}" ${configure_args})

if(MODE STREQUAL "find_package")
  # Guard against picking up some other coronet installed on the system.
  file(STRINGS "${build}/CMakeCache.txt" found_dir REGEX "^coronet_DIR:")
  string(REGEX REPLACE "^coronet_DIR:[A-Z]+=" "" found_dir "${found_dir}")
  file(REAL_PATH "${found_dir}" found_dir)
  file(REAL_PATH "${prefix}" real_prefix)
  string(FIND "${found_dir}" "${real_prefix}/" at)
  if(NOT at EQUAL 0)
    message(FATAL_ERROR "find_package consumer used ${found_dir}, not the package in ${prefix}")
  endif()
endif()

run(build "${CMAKE_COMMAND}" --build "${build}" --parallel)
run(run "${build}/coronet_consumer")
run(run_core "${build}/coronet_core_consumer")
message(STATUS "${MODE} consumer: OK")
