# SPDX-License-Identifier: Apache-2.0
# Negative controls side by side (docs/testing.md, "Negative controls"). With
# BATON_NEGATIVE_SWITCHES set, one build tree holds the core broken once per
# switch, for scripts/test.sh's negative stage. Everything is compiled once,
# unbroken (baton_core, baton_sim, scenario_tests); for each switch only the
# core .cpp files that mention BATON_BREAK_<SWITCH> are compiled again, with
# it defined, into baton_core_break_<switch>. baton_core-<switch> stands for
# baton_core with those objects in place of the unbroken ones: its objects go
# on the link line directly (not through an archive), so an object left in
# twice or left out stops the link instead of picking one copy silently.
# tests/sim and tests/scenarios link baton-sim-<switch> and
# scenario_tests-<switch> against it where a switch has tests there, register
# those tests (label negative), and add the executables to the target
# baton-negative.
#
# Which files a switch breaks is read from the sources at configure time (the
# core's .cpp files are configure dependencies, so a file that starts testing
# a switch is picked up), so a new switch needs only its name in
# BATON_BREAK_SWITCHES and its tests. The macros may appear only in the core's
# .cpp files: the headers and the simulator and scenario objects are shared by
# every switch, so a macro there would silently do nothing.
#
# Included by the top-level CMakeLists.txt after lib/ and before tests/.
# Defines BATON_NEGATIVE_SWITCH_LIST (the switches, "all" expanded; empty when
# the option is off) for tests/.

set(BATON_NEGATIVE_SWITCH_LIST "")
if(NOT BATON_NEGATIVE_SWITCHES)
  return()
endif()

if(BATON_NEGATIVE_SWITCHES STREQUAL "all")
  set(BATON_NEGATIVE_SWITCH_LIST ${BATON_BREAK_SWITCHES})
else()
  set(BATON_NEGATIVE_SWITCH_LIST ${BATON_NEGATIVE_SWITCHES})
endif()
if(BATON_BREAK)
  message(FATAL_ERROR "BATON_NEGATIVE_SWITCHES and BATON_BREAK exclude each other: BATON_BREAK "
    "breaks every object, the variants would carry two breaks")
endif()
if(NOT BATON_TESTS)
  message(FATAL_ERROR "BATON_NEGATIVE_SWITCHES needs BATON_TESTS=ON (the variants exist for their tests)")
endif()
foreach(_switch IN LISTS BATON_NEGATIVE_SWITCH_LIST)
  if(NOT _switch IN_LIST BATON_BREAK_SWITCHES)
    message(FATAL_ERROR "BATON_NEGATIVE_SWITCHES: unknown switch '${_switch}' (known: ${BATON_BREAK_SWITCHES})")
  endif()
endforeach()

# The core's sources as its target has them (lib/core/CMakeLists.txt,
# BATON_CORE_SOURCES), as absolute paths.
get_target_property(_core_dir baton_core SOURCE_DIR)
get_target_property(_core_sources baton_core SOURCES)
set(_core_cpp "")
foreach(_src IN LISTS _core_sources)
  if(_src MATCHES "\\$<")
    message(FATAL_ERROR "cmake/BatonBreak.cmake: baton_core source '${_src}' is a generator expression; "
      "the negative variants need plain paths")
  endif()
  cmake_path(ABSOLUTE_PATH _src BASE_DIRECTORY "${_core_dir}" NORMALIZE)
  if(_src MATCHES "\\.(cpp|cc|cxx)$")
    list(APPEND _core_cpp "${_src}")
  endif()
endforeach()
set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${_core_cpp})

# Every BATON_BREAK_<NAME> mention in the library, the simulator and the
# scenario runner: _break_files_<NAME> lists the files that mention it.
file(GLOB_RECURSE _scanned LIST_DIRECTORIES false
  ${PROJECT_SOURCE_DIR}/lib/*.cpp ${PROJECT_SOURCE_DIR}/lib/*.hpp ${PROJECT_SOURCE_DIR}/lib/*.h
  ${PROJECT_SOURCE_DIR}/tests/sim/*.cpp ${PROJECT_SOURCE_DIR}/tests/sim/*.hpp
  ${PROJECT_SOURCE_DIR}/tests/scenarios/*.cpp ${PROJECT_SOURCE_DIR}/tests/scenarios/*.hpp)
list(APPEND _scanned ${_core_cpp})
list(REMOVE_DUPLICATES _scanned)
set(_break_names "")
foreach(_file IN LISTS _scanned)
  file(STRINGS "${_file}" _lines REGEX "BATON_BREAK_[A-Z0-9_]+")
  if(NOT _lines)
    continue()
  endif()
  string(REGEX MATCHALL "BATON_BREAK_[A-Z0-9_]+" _macros "${_lines}")
  list(REMOVE_DUPLICATES _macros)
  if(NOT _file IN_LIST _core_cpp)
    message(FATAL_ERROR "${_file} mentions ${_macros}: only baton_core's .cpp files may "
      "(the negative build shares every other object between the switches; cmake/BatonBreak.cmake)")
  endif()
  foreach(_macro IN LISTS _macros)
    string(REGEX REPLACE "^BATON_BREAK_" "" _name "${_macro}")
    list(APPEND _break_names ${_name})
    list(APPEND _break_files_${_name} "${_file}")
  endforeach()
endforeach()
list(REMOVE_DUPLICATES _break_names)

# A macro in the core that no listed switch names is a control the negative
# stage does not run yet.
set(_known "")
foreach(_switch IN LISTS BATON_BREAK_SWITCHES)
  string(TOUPPER "${_switch}" _upper)
  list(APPEND _known ${_upper})
endforeach()
foreach(_name IN LISTS _break_names)
  if(NOT _name IN_LIST _known)
    message(WARNING "BATON_BREAK_${_name} (${_break_files_${_name}}) is no switch of BATON_BREAK_SWITCHES "
      "(CMakeLists.txt): the negative stage does not check it")
  endif()
endforeach()

# The umbrella target: every per-switch executable that has a test.
add_custom_target(baton-negative)

# The broken objects are compiled as baton_core compiles its own.
set(_core_compile_properties INCLUDE_DIRECTORIES COMPILE_OPTIONS COMPILE_DEFINITIONS COMPILE_FEATURES LINK_LIBRARIES)
set(_core_usage_properties INTERFACE_INCLUDE_DIRECTORIES INTERFACE_SYSTEM_INCLUDE_DIRECTORIES
  INTERFACE_COMPILE_OPTIONS INTERFACE_COMPILE_DEFINITIONS INTERFACE_COMPILE_FEATURES
  INTERFACE_LINK_LIBRARIES INTERFACE_LINK_OPTIONS)

foreach(_switch IN LISTS BATON_NEGATIVE_SWITCH_LIST)
  string(TOUPPER "${_switch}" _upper)
  set(_broken ${_break_files_${_upper}})
  if(NOT _broken)
    message(FATAL_ERROR "BATON_NEGATIVE_SWITCHES: no core .cpp file mentions BATON_BREAK_${_upper}, "
      "so '${_switch}' would break nothing")
  endif()
  add_library(baton_core_break_${_switch} OBJECT ${_broken})
  foreach(_prop IN LISTS _core_compile_properties)
    get_target_property(_value baton_core ${_prop})
    if(_value)
      set_property(TARGET baton_core_break_${_switch} PROPERTY ${_prop} "${_value}")
    endif()
  endforeach()
  target_compile_definitions(baton_core_break_${_switch} PRIVATE BATON_BREAK_${_upper}=1)

  # baton_core's objects without the unbroken copies of those files. An
  # object is named after its source's path under lib/core, plus .o.
  set(_exclude "")
  foreach(_file IN LISTS _broken)
    file(RELATIVE_PATH _rel "${_core_dir}" "${_file}")
    string(REGEX REPLACE "([][+.*()^$?|])" "\\\\\\1" _rel "${_rel}")
    list(APPEND _exclude "/baton_core\\.dir/${_rel}\\.o(bj)?$")
  endforeach()
  list(JOIN _exclude "|" _exclude)
  add_library(baton_core-${_switch} INTERFACE)
  foreach(_prop IN LISTS _core_usage_properties)
    get_target_property(_value baton_core ${_prop})
    if(_value)
      set_property(TARGET baton_core-${_switch} PROPERTY ${_prop} "${_value}")
    endif()
  endforeach()
  target_sources(baton_core-${_switch} INTERFACE
    $<TARGET_OBJECTS:baton_core_break_${_switch}>
    $<FILTER:$<TARGET_OBJECTS:baton_core>,EXCLUDE,${_exclude}>)
endforeach()

# Every switch asked for must have at least one test (tests/sim and
# tests/scenarios add the switches they cover to BATON_NEGATIVE_COVERED).
function(_baton_negative_check_covered)
  get_property(_covered GLOBAL PROPERTY BATON_NEGATIVE_COVERED)
  foreach(_switch IN LISTS BATON_NEGATIVE_SWITCH_LIST)
    if(NOT _switch IN_LIST _covered)
      message(FATAL_ERROR "BATON_NEGATIVE_SWITCHES: '${_switch}' has no negative test "
        "(add one in tests/sim/CMakeLists.txt or tests/scenarios/CMakeLists.txt)")
    endif()
  endforeach()
endfunction()
cmake_language(DEFER DIRECTORY ${PROJECT_SOURCE_DIR} CALL _baton_negative_check_covered)
