# FindWslay
# ---------
#
# Finds wslay, the WebSocket framing library (RFC 6455) that coronet's
# WebSocket endpoint is built on (Debian: libwslay-dev).
#
# Imported target:
#
#   Wslay::Wslay  the library and its include directory.
#
# Result variables:
#
#   Wslay_FOUND          true if wslay/wslay.h and the library were found
#   Wslay_INCLUDE_DIRS   include directories for wslay
#   Wslay_LIBRARIES      the library to link
#
# Cache variables:
#
#   Wslay_INCLUDE_DIR    directory containing wslay/wslay.h
#   Wslay_LIBRARY        the library (set them to pick another copy)

include(FindPackageHandleStandardArgs)

find_path(Wslay_INCLUDE_DIR NAMES wslay/wslay.h DOC "Directory containing wslay/wslay.h")
find_library(Wslay_LIBRARY NAMES wslay DOC "The wslay library")
mark_as_advanced(Wslay_INCLUDE_DIR Wslay_LIBRARY)

find_package_handle_standard_args(Wslay REQUIRED_VARS Wslay_LIBRARY Wslay_INCLUDE_DIR)

if(Wslay_FOUND)
  set(Wslay_INCLUDE_DIRS "${Wslay_INCLUDE_DIR}")
  set(Wslay_LIBRARIES "${Wslay_LIBRARY}")
  if(NOT TARGET Wslay::Wslay)
    add_library(Wslay::Wslay UNKNOWN IMPORTED)
    set_target_properties(Wslay::Wslay PROPERTIES
      IMPORTED_LOCATION "${Wslay_LIBRARY}"
      INTERFACE_INCLUDE_DIRECTORIES "${Wslay_INCLUDE_DIR}")
  endif()
endif()
