# FindHttpParser
# --------------
#
# Finds the C HTTP/1.1 parser http_parser (github.com/nodejs/http-parser; the
# parser Node.js used before llhttp; Debian: libhttp-parser-dev), which ships
# no CMake package or pkg-config file of its own.
#
# Imported target:
#
#   HttpParser::HttpParser  the library, with its include directory.
#
# Result variables:
#
#   HttpParser_FOUND          true if http_parser.h and the library were found
#   HttpParser_INCLUDE_DIRS   include directories
#   HttpParser_LIBRARIES      the library to link
#   HttpParser_VERSION        from http_parser.h, e.g. 2.9.4
#
# Cache variables (set them to pick another copy):
#
#   HttpParser_INCLUDE_DIR    directory containing http_parser.h
#   HttpParser_LIBRARY        the library file

include(FindPackageHandleStandardArgs)

find_path(HttpParser_INCLUDE_DIR
  NAMES http_parser.h
  DOC "Directory containing http_parser.h")
find_library(HttpParser_LIBRARY
  NAMES http_parser
  DOC "The http_parser library")
mark_as_advanced(HttpParser_INCLUDE_DIR HttpParser_LIBRARY)

if(HttpParser_INCLUDE_DIR AND EXISTS "${HttpParser_INCLUDE_DIR}/http_parser.h")
  file(STRINGS "${HttpParser_INCLUDE_DIR}/http_parser.h" _http_parser_version_lines
       REGEX "^#[ \t]*define[ \t]+HTTP_PARSER_VERSION_(MAJOR|MINOR|PATCH)[ \t]+[0-9]+")
  foreach(_part MAJOR MINOR PATCH)
    if(_http_parser_version_lines MATCHES "HTTP_PARSER_VERSION_${_part}[ \t]+([0-9]+)")
      set(_http_parser_${_part} "${CMAKE_MATCH_1}")
    endif()
  endforeach()
  if(DEFINED _http_parser_MAJOR AND DEFINED _http_parser_MINOR AND DEFINED _http_parser_PATCH)
    set(HttpParser_VERSION "${_http_parser_MAJOR}.${_http_parser_MINOR}.${_http_parser_PATCH}")
  endif()
  unset(_http_parser_version_lines)
  unset(_http_parser_MAJOR)
  unset(_http_parser_MINOR)
  unset(_http_parser_PATCH)
  unset(_part)
endif()

find_package_handle_standard_args(HttpParser
  REQUIRED_VARS HttpParser_LIBRARY HttpParser_INCLUDE_DIR
  VERSION_VAR HttpParser_VERSION)

if(HttpParser_FOUND)
  set(HttpParser_INCLUDE_DIRS "${HttpParser_INCLUDE_DIR}")
  set(HttpParser_LIBRARIES "${HttpParser_LIBRARY}")
  if(NOT TARGET HttpParser::HttpParser)
    add_library(HttpParser::HttpParser UNKNOWN IMPORTED)
    set_target_properties(HttpParser::HttpParser PROPERTIES
      IMPORTED_LOCATION "${HttpParser_LIBRARY}"
      INTERFACE_INCLUDE_DIRECTORIES "${HttpParser_INCLUDE_DIR}")
  endif()
endif()
