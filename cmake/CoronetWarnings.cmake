# Target-scoped build settings for coronet's own targets (library, tests,
# samples, bench). Nothing here touches CMAKE_CXX_FLAGS or directory-wide
# options, so a parent project that add_subdirectory()s coronet is unaffected.
#
#   coronet_set_warnings(<target>)
#     -Wall -Wextra -Wpedantic, plus -Werror when CORONET_WERROR is ON.
#     PRIVATE: consumers of coronet never inherit coronet's warning policy.
#
#   coronet_set_sanitizers(<target>)
#     Applies CORONET_SANITIZE (a list: "", "address;undefined", "thread").
#     Called on each of coronet's library targets (core, framework, services),
#     which pass the flags on PUBLIC inside $<BUILD_INTERFACE:> so every target
#     in this build that links coronet (tests, samples, bench) is instrumented
#     the same way; the link flag is also exported so an installed
#     instrumented library still links.

include_guard(GLOBAL)

function(coronet_set_warnings target)
  if(MSVC)
    target_compile_options(${target} PRIVATE /W4 $<$<BOOL:${CORONET_WERROR}>:/WX>)
  else()
    target_compile_options(${target} PRIVATE
      -Wall -Wextra -Wpedantic $<$<BOOL:${CORONET_WERROR}>:-Werror>)
    if(CORONET_SANITIZE AND CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
      # g++ 12 instrumentation makes -Wmaybe-uninitialized fire inside
      # libstdc++ (std::function, std::regex); unsanitized builds still check it.
      target_compile_options(${target} PRIVATE -Wno-maybe-uninitialized)
      if("thread" IN_LIST CORONET_SANITIZE)
        # g++ 12 warns (-Wtsan) that TSan does not model atomic_thread_fence,
        # which Asio uses; the warning is about the tool, not our code.
        target_compile_options(${target} PRIVATE -Wno-tsan)
      endif()
    endif()
  endif()
endfunction()

function(coronet_set_sanitizers target)
  if(NOT CORONET_SANITIZE)
    return()
  endif()
  set(_known address undefined thread leak)
  foreach(_sanitizer IN LISTS CORONET_SANITIZE)
    if(NOT _sanitizer IN_LIST _known)
      message(FATAL_ERROR
        "CORONET_SANITIZE: unknown sanitizer '${_sanitizer}' (known: ${_known})")
    endif()
  endforeach()
  if("thread" IN_LIST CORONET_SANITIZE AND "address" IN_LIST CORONET_SANITIZE)
    message(FATAL_ERROR "CORONET_SANITIZE: 'thread' cannot be combined with 'address'")
  endif()

  list(JOIN CORONET_SANITIZE "," _list)
  set(_flags -fsanitize=${_list} -fno-omit-frame-pointer)
  if("undefined" IN_LIST CORONET_SANITIZE)
    # Make any UB report fail the test instead of printing and carrying on.
    list(APPEND _flags -fno-sanitize-recover=undefined)
    if(CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
      # clang 14's -fsanitize=function cannot emit coroutine split functions
      # ("Cannot represent a difference across sections").
      list(APPEND _flags -fno-sanitize=function)
    endif()
  endif()
  target_compile_options(${target} PUBLIC "$<BUILD_INTERFACE:${_flags}>")
  target_link_options(${target} PUBLIC -fsanitize=${_list})
endfunction()
