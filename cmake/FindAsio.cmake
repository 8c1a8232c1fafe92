# FindAsio
# --------
#
# Finds standalone (non-Boost) Asio, which is header-only and ships no CMake
# package of its own (Debian: libasio-dev).
#
# Imported target:
#
#   Asio::Asio  INTERFACE target: include directory, ASIO_STANDALONE,
#               ASIO_NO_DEPRECATED, ASIO_HAS_CO_AWAIT=1 for Clang, Threads::Threads.
#
# Result variables:
#
#   Asio_FOUND          true if asio.hpp was found
#   Asio_INCLUDE_DIRS   include directories for Asio
#   Asio_VERSION        version from asio/version.hpp, e.g. 1.22.1
#
# Cache variables:
#
#   Asio_INCLUDE_DIR    directory containing asio.hpp (set it to pick another copy)

include(FindPackageHandleStandardArgs)

find_path(Asio_INCLUDE_DIR
  NAMES asio.hpp
  PATH_SUFFIXES asio/include
  DOC "Directory containing the standalone Asio header asio.hpp")
mark_as_advanced(Asio_INCLUDE_DIR)

if(Asio_INCLUDE_DIR AND EXISTS "${Asio_INCLUDE_DIR}/asio/version.hpp")
  file(STRINGS "${Asio_INCLUDE_DIR}/asio/version.hpp" _asio_version_line
       REGEX "^#[ \t]*define[ \t]+ASIO_VERSION[ \t]+[0-9]+")
  if(_asio_version_line MATCHES "ASIO_VERSION[ \t]+([0-9]+)")
    # ASIO_VERSION is XXYYYZZ: major * 100000 + minor * 100 + patch.
    set(_asio_version_number "${CMAKE_MATCH_1}")
    math(EXPR _asio_major "${_asio_version_number} / 100000")
    math(EXPR _asio_minor "${_asio_version_number} / 100 % 1000")
    math(EXPR _asio_patch "${_asio_version_number} % 100")
    set(Asio_VERSION "${_asio_major}.${_asio_minor}.${_asio_patch}")
  endif()
  unset(_asio_version_line)
  unset(_asio_version_number)
  unset(_asio_major)
  unset(_asio_minor)
  unset(_asio_patch)
endif()

# Asio's io_context and resolver need the platform thread library.
if(NOT TARGET Threads::Threads)
  set(THREADS_PREFER_PTHREAD_FLAG ON)
  find_package(Threads QUIET)
endif()
if(TARGET Threads::Threads)
  set(_asio_threads_found TRUE)
else()
  set(_asio_threads_found FALSE)
endif()

find_package_handle_standard_args(Asio
  REQUIRED_VARS Asio_INCLUDE_DIR _asio_threads_found
  VERSION_VAR Asio_VERSION)
unset(_asio_threads_found)

if(Asio_FOUND)
  set(Asio_INCLUDE_DIRS "${Asio_INCLUDE_DIR}")
  if(NOT TARGET Asio::Asio)
    add_library(Asio::Asio INTERFACE IMPORTED)
    set_target_properties(Asio::Asio PROPERTIES
      INTERFACE_INCLUDE_DIRECTORIES "${Asio_INCLUDE_DIR}"
      # clang 14 with libstdc++ 12: Asio 1.22 only detects co_await through
      # <experimental/coroutine>, which libstdc++ does not have.
      INTERFACE_COMPILE_DEFINITIONS
        "ASIO_STANDALONE;ASIO_NO_DEPRECATED;$<$<CXX_COMPILER_ID:Clang>:ASIO_HAS_CO_AWAIT=1>"
      INTERFACE_LINK_LIBRARIES Threads::Threads)
  endif()
endif()
