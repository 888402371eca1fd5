# SPDX-License-Identifier: Apache-2.0
# cmake -P script for layering.core_poison (see CMakeLists.txt).
# Inputs: CXX, CORE_INCLUDES / CORE_LINKS / CODEC_LINKS ('|'-separated), WORK_DIR.
cmake_minimum_required(VERSION 3.25)

string(REPLACE "|" ";" core_includes "${CORE_INCLUDES}")
set(include_flags "")
foreach(dir IN LISTS core_includes)
  list(APPEND include_flags "-I${dir}")
endforeach()
if(NOT include_flags MATCHES "/lib/core/poison")
  message(FATAL_ERROR "baton_core's include path has no lib/core/poison: ${CORE_INCLUDES}")
endif()
file(REMOVE_RECURSE "${WORK_DIR}")
file(MAKE_DIRECTORY "${WORK_DIR}")

# Compiles `source` with the core's flags; sets rc and log in the caller.
function(compile name source)
  file(WRITE "${WORK_DIR}/${name}.cpp" "${source}")
  execute_process(
    COMMAND "${CXX}" -std=c++20 -fsyntax-only ${include_flags} "${WORK_DIR}/${name}.cpp"
    RESULT_VARIABLE code OUTPUT_VARIABLE out ERROR_VARIABLE err)
  set(rc "${code}" PARENT_SCOPE)
  set(log "${out}${err}" PARENT_SCOPE)
endfunction()

# Positive control: the same flags compile a core header and the standard
# library, so the failures below come from the poison, not from bad flags.
compile(control "#include \"core/time.hpp\"\n#include <vector>\nint main() { return 0; }\n")
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "control source does not compile with the core's flags:\n${log}")
endif()

# Each probe must be stopped by its own shadow (the real uv.h would also fail,
# on the sockets shadow, so the message is checked, not just the failure).
foreach(probe "<uv.h>=uv.h" "\"uv.h\"=uv.h" "<sys/socket.h>=<sys/socket.h>" "<thread>=<thread>")
  string(REGEX MATCH "^(.*)=(.*)$" _ "${probe}")
  set(header "${CMAKE_MATCH_1}")
  set(expected "baton_core must not include ${CMAKE_MATCH_2}:")
  string(MAKE_C_IDENTIFIER "${header}" name)
  compile(probe_${name} "#include ${header}\nint main() { return 0; }\n")
  if(rc EQUAL 0)
    message(FATAL_ERROR "#include ${header} compiled with baton_core's include path: the poison does not work")
  endif()
  string(FIND "${log}" "${expected}" at)
  if(at EQUAL -1)
    message(FATAL_ERROR "#include ${header} failed, but not with \"${expected}\":\n${log}")
  endif()
  message(STATUS "#include ${header} rejected in the core: ok")
endforeach()

# The link interfaces: no I/O library below the runtime.
foreach(layer CORE CODEC)
  string(REPLACE "|" ";" links "${${layer}_LINKS}")
  foreach(lib IN LISTS links)
    if(lib MATCHES "(LIBUV|libuv|^uv$|Threads::|pthread)")
      message(FATAL_ERROR "${layer} links ${lib}: only lib/runtime may use libuv and threads")
    endif()
  endforeach()
  message(STATUS "${layer} links [${${layer}_LINKS}]: no libuv, no threads: ok")
endforeach()
