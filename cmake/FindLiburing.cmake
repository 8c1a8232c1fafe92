# FindLiburing
# ------------
#
# Finds liburing, the helper library over Linux's io_uring interface that
# coronet's io_uring transport is built on (Debian: liburing-dev). The version
# comes from pkg-config's liburing.pc when it is there (liburing 2.3 has no
# version macro in its headers).
#
# Imported target:
#
#   Liburing::Liburing  the library and its include directory.
#
# Result variables:
#
#   Liburing_FOUND          true if liburing.h and the library were found
#   Liburing_VERSION        the version, when pkg-config knows it
#   Liburing_INCLUDE_DIRS   include directories for liburing
#   Liburing_LIBRARIES      the library to link
#
# Cache variables:
#
#   Liburing_INCLUDE_DIR    directory containing liburing.h
#   Liburing_LIBRARY        the library (set them to pick another copy)

include(FindPackageHandleStandardArgs)

find_package(PkgConfig QUIET)
if(PKG_CONFIG_FOUND)
  pkg_check_modules(PC_Liburing QUIET liburing)
endif()

find_path(Liburing_INCLUDE_DIR NAMES liburing.h HINTS ${PC_Liburing_INCLUDE_DIRS}
  DOC "Directory containing liburing.h")
find_library(Liburing_LIBRARY NAMES uring HINTS ${PC_Liburing_LIBRARY_DIRS} DOC "The liburing library")
mark_as_advanced(Liburing_INCLUDE_DIR Liburing_LIBRARY)
if(PC_Liburing_VERSION)
  set(Liburing_VERSION "${PC_Liburing_VERSION}")
endif()

find_package_handle_standard_args(Liburing
  REQUIRED_VARS Liburing_LIBRARY Liburing_INCLUDE_DIR
  VERSION_VAR Liburing_VERSION)

if(Liburing_FOUND)
  set(Liburing_INCLUDE_DIRS "${Liburing_INCLUDE_DIR}")
  set(Liburing_LIBRARIES "${Liburing_LIBRARY}")
  if(NOT TARGET Liburing::Liburing)
    add_library(Liburing::Liburing UNKNOWN IMPORTED)
    set_target_properties(Liburing::Liburing PROPERTIES
      IMPORTED_LOCATION "${Liburing_LIBRARY}"
      INTERFACE_INCLUDE_DIRECTORIES "${Liburing_INCLUDE_DIR}")
  endif()
endif()
