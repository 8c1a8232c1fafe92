# FindLlhttp
# ----------
#
# Finds the C sources of llhttp (github.com/nodejs/llhttp, the HTTP/1.1 parser
# of Node.js since 12, successor of http_parser), which Debian ships as
# sources only, in node-llhttp: /usr/share/llhttp/{llhttp.c,api.c,http.c} and
# /usr/share/include/llhttp/llhttp.h. There is no library to link, so this
# module builds them.
#
# Target (created when found):
#
#   coronet_llhttp  an OBJECT library of the three sources, in llhttp's
#                   strict mode (LLHTTP_STRICT_MODE=1): C, position
#                   independent, symbols hidden from a shared library,
#                   compiled without coronet's warning policy (third-party
#                   code). Add its objects to the target that uses it with
#                   `$<TARGET_OBJECTS:coronet_llhttp>`, so that the target's
#                   static or shared library carries the parser itself and
#                   an installed coronet needs neither llhttp nor its header.
#                   Its include directory is not propagated: add
#                   Llhttp_INCLUDE_DIRS where the header is included.
#
# Result variables:
#
#   Llhttp_FOUND          true if llhttp.h and the three sources were found
#   Llhttp_INCLUDE_DIRS   the directory containing llhttp.h
#   Llhttp_SOURCES        llhttp.c, api.c and http.c
#   Llhttp_VERSION        from llhttp.h, e.g. 8.1.0
#
# Cache variables (set them to pick another copy, e.g. a release tarball's
# include/ and src/):
#
#   Llhttp_INCLUDE_DIR    directory containing llhttp.h
#   Llhttp_SOURCE_DIR     directory containing llhttp.c, api.c and http.c

include(FindPackageHandleStandardArgs)

find_path(Llhttp_INCLUDE_DIR
  NAMES llhttp.h
  PATHS /usr/share/include /usr/local/share/include
  PATH_SUFFIXES llhttp
  DOC "Directory containing llhttp.h")
find_path(Llhttp_SOURCE_DIR
  NAMES llhttp.c
  PATHS /usr/share /usr/local/share
  PATH_SUFFIXES llhttp llhttp/src
  NO_DEFAULT_PATH
  DOC "Directory containing llhttp's C sources (llhttp.c, api.c, http.c)")
mark_as_advanced(Llhttp_INCLUDE_DIR Llhttp_SOURCE_DIR)

set(Llhttp_SOURCES)
if(Llhttp_SOURCE_DIR)
  foreach(_llhttp_file llhttp.c api.c http.c)
    if(EXISTS "${Llhttp_SOURCE_DIR}/${_llhttp_file}")
      list(APPEND Llhttp_SOURCES "${Llhttp_SOURCE_DIR}/${_llhttp_file}")
    else()
      set(Llhttp_SOURCES)
      break()
    endif()
  endforeach()
  unset(_llhttp_file)
endif()

if(Llhttp_INCLUDE_DIR AND EXISTS "${Llhttp_INCLUDE_DIR}/llhttp.h")
  file(STRINGS "${Llhttp_INCLUDE_DIR}/llhttp.h" _llhttp_version_lines
       REGEX "^#[ \t]*define[ \t]+LLHTTP_VERSION_(MAJOR|MINOR|PATCH)[ \t]+[0-9]+")
  foreach(_part MAJOR MINOR PATCH)
    if(_llhttp_version_lines MATCHES "LLHTTP_VERSION_${_part}[ \t]+([0-9]+)")
      set(_llhttp_${_part} "${CMAKE_MATCH_1}")
    endif()
  endforeach()
  if(DEFINED _llhttp_MAJOR AND DEFINED _llhttp_MINOR AND DEFINED _llhttp_PATCH)
    set(Llhttp_VERSION "${_llhttp_MAJOR}.${_llhttp_MINOR}.${_llhttp_PATCH}")
  endif()
  unset(_llhttp_version_lines)
  unset(_llhttp_MAJOR)
  unset(_llhttp_MINOR)
  unset(_llhttp_PATCH)
  unset(_part)
endif()

find_package_handle_standard_args(Llhttp
  REQUIRED_VARS Llhttp_SOURCES Llhttp_INCLUDE_DIR
  VERSION_VAR Llhttp_VERSION)

if(Llhttp_FOUND)
  set(Llhttp_INCLUDE_DIRS "${Llhttp_INCLUDE_DIR}")
  if(NOT TARGET coronet_llhttp)
    # The only C in the project; enabled here, where the sources are known.
    enable_language(C)
    add_library(coronet_llhttp OBJECT ${Llhttp_SOURCES})
    target_include_directories(coronet_llhttp PRIVATE "${Llhttp_INCLUDE_DIR}")
    # Strict mode checks the CRLF after chunk data: 8.1.0 otherwise skips
    # those two bytes unchecked, a request-smuggling shape.
    target_compile_definitions(coronet_llhttp PRIVATE LLHTTP_STRICT_MODE=1)
    set_target_properties(coronet_llhttp PROPERTIES
      POSITION_INDEPENDENT_CODE ON
      C_VISIBILITY_PRESET hidden)
  endif()
endif()
