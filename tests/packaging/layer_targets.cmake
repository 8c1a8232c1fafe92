# Included by both consumer projects once coronet is available: each layer is
# a target of its own, and the core one links without the others.
foreach(layer core framework services)
  if(NOT TARGET coronet::${layer})
    message(FATAL_ERROR "coronet::${layer} is not defined")
  endif()
endforeach()
add_executable(coronet_core_consumer ${CMAKE_CURRENT_LIST_DIR}/core_only.cpp)
target_link_libraries(coronet_core_consumer PRIVATE coronet::core)
