# SPDX-License-Identifier: Apache-2.0
# cmake -P script for layering.public_headers (see CMakeLists.txt).
# Inputs: CXX, PUBLIC_INCLUDE (lib/include), GENERATED_INCLUDE (the build's
# include/, with baton/version.hpp), WORK_DIR.
cmake_minimum_required(VERSION 3.25)

file(REMOVE_RECURSE "${WORK_DIR}")
set(shadow "${WORK_DIR}/shadow")
foreach(h uv.h sodium.h flatbuffers/flatbuffers.h)
  file(WRITE "${shadow}/${h}"
    "#error \"a public Baton header includes ${h}: the public API must hide it\"\n")
endforeach()

file(GLOB headers RELATIVE "${PUBLIC_INCLUDE}" "${PUBLIC_INCLUDE}/baton/*.hpp")
file(GLOB generated RELATIVE "${GENERATED_INCLUDE}" "${GENERATED_INCLUDE}/baton/*.hpp")
if(NOT generated)
  message(FATAL_ERROR "no generated public headers under ${GENERATED_INCLUDE}/baton (version.hpp)")
endif()
list(APPEND headers ${generated})
if(NOT headers)
  message(FATAL_ERROR "no public headers under ${PUBLIC_INCLUDE}/baton")
endif()
set(failed "")
foreach(h IN LISTS headers)
  string(MAKE_C_IDENTIFIER "${h}" name)
  set(src "${WORK_DIR}/${name}.cpp")
  file(WRITE "${src}" "#include <${h}>\n#include <${h}>  // include guard\nint main() { return 0; }\n")
  execute_process(
    COMMAND "${CXX}" -std=c++20 -fsyntax-only -Wall -Wextra -Wpedantic -Werror
            "-I${shadow}" "-I${PUBLIC_INCLUDE}" "-I${GENERATED_INCLUDE}" "${src}"
    RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(rc EQUAL 0)
    message(STATUS "${h}: self-contained, hides uv/sodium/flatbuffers: ok")
  else()
    message(STATUS "${h}: FAILED\n${out}${err}")
    list(APPEND failed "${h}")
  endif()
endforeach()
if(failed)
  message(FATAL_ERROR "public headers that do not compile on their own with only lib/include: ${failed}")
endif()
