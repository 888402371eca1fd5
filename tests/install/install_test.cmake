# SPDX-License-Identifier: Apache-2.0
# cmake -P script run by the install.consumer test (see CMakeLists.txt).
# Inputs: BUILD_DIR SOURCE_DIR WORK_DIR CONFIG LIBDIR CXX CXX_FLAGS LINK_FLAGS
cmake_minimum_required(VERSION 3.25)

foreach(v BUILD_DIR SOURCE_DIR WORK_DIR LIBDIR CXX)
  if(NOT DEFINED ${v} OR "${${v}}" STREQUAL "")
    message(FATAL_ERROR "install_test.cmake: ${v} is not set")
  endif()
endforeach()

# Runs a command; on failure prints its output and fails the test.
function(run what)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${what} failed (${rc}):\n${ARGN}\n--- stdout\n${out}\n--- stderr\n${err}")
  endif()
  message(STATUS "${what}: ok")
  set(run_output "${out}" PARENT_SCOPE)
endfunction()

function(expect_contains text needle what)
  string(FIND "${text}" "${needle}" at)
  if(at EQUAL -1)
    message(FATAL_ERROR "${what}: expected \"${needle}\" in:\n${text}")
  endif()
endfunction()

# Until the top-level CMakeLists.txt includes cmake/BatonInstall.cmake there
# is nothing to install: say so and let ctest count the test as skipped
# (SKIP_REGULAR_EXPRESSION), rather than fail everyone's run or pass silently.
if(NOT EXISTS "${BUILD_DIR}/cmake/batonConfig.cmake")
  message("BATON-SKIP: no install rules in this build: the top-level CMakeLists.txt "
          "does not include(cmake/BatonInstall.cmake) yet")
  return()
endif()

set(prefix "${WORK_DIR}/prefix")
file(REMOVE_RECURSE "${WORK_DIR}")
file(MAKE_DIRECTORY "${WORK_DIR}")

# 1. Install the current build into the scratch prefix.
set(config_args "")
if(CONFIG)
  set(config_args --config "${CONFIG}")
endif()
run("cmake --install" ${CMAKE_COMMAND} --install "${BUILD_DIR}" --prefix "${prefix}" ${config_args})

# 2. What must be there, and what the public headers must not pull in.
foreach(f include/baton/result.hpp include/baton/export.hpp ${LIBDIR}/cmake/baton/batonConfig.cmake
          ${LIBDIR}/cmake/baton/batonConfigVersion.cmake ${LIBDIR}/pkgconfig/baton.pc
          ${LIBDIR}/pkgconfig/baton-static.pc ${LIBDIR}/libbaton.a)
  if(NOT EXISTS "${prefix}/${f}")
    message(FATAL_ERROR "not installed: ${f}")
  endif()
endforeach()
file(GLOB exports "${prefix}/${LIBDIR}/cmake/baton/batonTargets-*.cmake")
if(NOT exports)
  message(FATAL_ERROR "not installed: ${LIBDIR}/cmake/baton/batonTargets-{shared,static}.cmake")
endif()
# One library: the internal layers are inside libbaton, never installed.
file(GLOB internal "${prefix}/${LIBDIR}/libbaton_*")
if(internal)
  message(FATAL_ERROR "internal libraries installed: ${internal}")
endif()
file(GLOB headers "${prefix}/include/baton/*.hpp")
foreach(h IN LISTS headers)
  file(STRINGS "${h}" includes REGEX "^[ \t]*#[ \t]*include")
  foreach(line IN LISTS includes)
    if(line MATCHES "[<\"](uv\\.h|sodium|flatbuffers/|core/|codec/|runtime/)")
      message(FATAL_ERROR "installed public header ${h} includes an implementation header: ${line}")
    endif()
  endforeach()
endforeach()

# A shared libbaton (BUILD_SHARED_LIBS=ON) is found at run time in the prefix.
set(ENV{LD_LIBRARY_PATH} "${prefix}/${LIBDIR}")

# 3. find_package(baton) consumer. Only the scratch prefix may provide baton.
set(consumer_build "${WORK_DIR}/consumer-cmake")
run("configure consumer (find_package)"
  ${CMAKE_COMMAND} -S "${SOURCE_DIR}/examples/consumer" -B "${consumer_build}"
  "-DCMAKE_PREFIX_PATH=${prefix}" -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF
  -DCMAKE_FIND_USE_SYSTEM_PACKAGE_REGISTRY=OFF
  "-DCMAKE_CXX_COMPILER=${CXX}" "-DCMAKE_CXX_FLAGS=${CXX_FLAGS}"
  "-DCMAKE_EXE_LINKER_FLAGS=${LINK_FLAGS}" -DCMAKE_BUILD_TYPE=RelWithDebInfo)
expect_contains("${run_output}" "from ${prefix}/" "baton found in the scratch prefix")
run("build consumer (find_package)" ${CMAKE_COMMAND} --build "${consumer_build}")
run("run consumer (find_package)" "${consumer_build}/baton_consumer")
expect_contains("${run_output}" "consumer: ok" "find_package consumer output")
message(STATUS "find_package consumer said:\n${run_output}")

# 4. pkg-config consumer.
set(ENV{PKG_CONFIG_PATH} "${prefix}/${LIBDIR}/pkgconfig")
set(ENV{CXX} "${CXX}")
set(ENV{CXXFLAGS} "${CXX_FLAGS} ${LINK_FLAGS}")
run("build consumer (pkg-config)" bash "${SOURCE_DIR}/examples/consumer/build-with-pkg-config.sh"
  "${WORK_DIR}/consumer-pkg-config")
expect_contains("${run_output}" "-I${prefix}/${LIBDIR}/pkgconfig/" "baton.pc from the scratch prefix")
run("run consumer (pkg-config)" "${WORK_DIR}/consumer-pkg-config/baton_consumer_pc")
expect_contains("${run_output}" "consumer: ok" "pkg-config consumer output")
