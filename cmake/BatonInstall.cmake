# SPDX-License-Identifier: Apache-2.0
# Install and export rules: headers, the static libraries, a CMake package
# (find_package(baton) -> baton::baton, baton::fence, ...) and baton.pc.
#
# Included once, at the end of the top-level CMakeLists.txt, after every
# target exists. It installs whichever of the library targets exist, so it
# keeps working while layers are being added:
#   baton_core -> baton::core      baton_runtime -> baton::runtime
#   baton_codec -> baton::codec    baton         -> baton::baton (the public API)
#   baton_fence -> baton::fence (header-only, std only)
# Targets of this project that those link (e.g. baton_warnings, as
# $<LINK_ONLY:...>) are exported with them, because CMake requires every
# target of a link interface to be in an export set. Imported dependencies
# (PkgConfig::LIBUV, Threads::Threads, ...) are re-found by batonConfig.cmake
# and listed in baton.pc.
include_guard(GLOBAL)
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(BATON_INSTALL_CMAKEDIR "${CMAKE_INSTALL_LIBDIR}/cmake/baton" CACHE STRING
    "Where batonConfig.cmake is installed, relative to the prefix")

# pkg-config module of each pkg_check_modules() prefix the libraries may use.
set(_baton_pc_module_LIBUV libuv)
set(_baton_pc_module_SODIUM libsodium)
set(_baton_pc_module_XXHASH libxxhash)

# Public library targets, in link order (dependents before dependencies).
set(_baton_public_targets baton baton_runtime baton_codec baton_core baton_fence)

# Collects, transitively, the project targets linked by $target into
# _baton_export (project targets) and _baton_imported (imported ones).
function(_baton_collect target)
  get_target_property(_links ${target} INTERFACE_LINK_LIBRARIES)
  if(NOT _links)
    return()
  endif()
  foreach(_item IN LISTS _links)
    # $<LINK_ONLY:x> is how a static library's private dependencies appear.
    set(_link_only FALSE)
    if(_item MATCHES "^\\$<LINK_ONLY:(.*)>$")
      set(_item "${CMAKE_MATCH_1}")
      set(_link_only TRUE)
    endif()
    if(_item MATCHES "^\\$<")
      continue()  # a generator expression (e.g. $<BUILD_INTERFACE:...>)
    endif()
    if(NOT TARGET "${_item}")
      # Imported targets are visible only below the directory that created
      # them (find_package(Threads) in lib/runtime), but a `::` name is one.
      if(_item MATCHES "::")
        list(APPEND _baton_imported ${_item})
      endif()
      continue()  # otherwise a plain library name or a flag
    endif()
    get_target_property(_alias ${_item} ALIASED_TARGET)
    if(_alias)
      set(_item ${_alias})
    endif()
    get_target_property(_imported ${_item} IMPORTED)
    if(_imported)
      list(APPEND _baton_imported ${_item})
      continue()
    endif()
    if(NOT _link_only)
      list(APPEND _baton_compile_used ${_item})
    endif()
    if(NOT _item IN_LIST _baton_export)
      list(APPEND _baton_export ${_item})
      _baton_collect(${_item})
    endif()
  endforeach()
  set(_baton_export ${_baton_export} PARENT_SCOPE)
  set(_baton_imported ${_baton_imported} PARENT_SCOPE)
  set(_baton_compile_used ${_baton_compile_used} PARENT_SCOPE)
endfunction()

set(_baton_export "")
set(_baton_imported "")
set(_baton_compile_used "")  # project targets whose usage requirements reach consumers
set(_baton_libs "")  # -l flags for baton.pc, in link order
foreach(_t IN LISTS _baton_public_targets)
  if(TARGET ${_t})
    list(APPEND _baton_export ${_t})
    get_target_property(_type ${_t} TYPE)
    if(NOT _type STREQUAL "INTERFACE_LIBRARY")
      list(APPEND _baton_libs "-l${_t}")
    endif()
  endif()
endforeach()
foreach(_t IN LISTS _baton_export)
  _baton_collect(${_t})
endforeach()
list(REMOVE_DUPLICATES _baton_export)
list(REMOVE_DUPLICATES _baton_imported)

# Helper targets reached only as $<LINK_ONLY:...> of a static library (e.g.
# baton_warnings, or baton_wire with flatc's output directory) pass nothing
# but link items to a consumer, so their include directories are build-tree
# only. Mark them so: install(EXPORT) rejects build-tree paths otherwise.
# (Linking them as $<BUILD_INTERFACE:...> at the source keeps them out of the
# export altogether; this keeps the install working until every layer does.)
foreach(_t IN LISTS _baton_export)
  if(_t IN_LIST _baton_public_targets OR _t IN_LIST _baton_compile_used)
    continue()
  endif()
  foreach(_prop INTERFACE_INCLUDE_DIRECTORIES INTERFACE_SYSTEM_INCLUDE_DIRECTORIES)
    get_target_property(_dirs ${_t} ${_prop})
    if(NOT _dirs)
      continue()
    endif()
    set(_wrapped "")
    foreach(_d IN LISTS _dirs)
      if(_d MATCHES "^\\$<")
        list(APPEND _wrapped "${_d}")
      else()
        list(APPEND _wrapped "$<BUILD_INTERFACE:${_d}>")
      endif()
    endforeach()
    set_property(TARGET ${_t} PROPERTY ${_prop} "${_wrapped}")
  endforeach()
endforeach()

foreach(_t IN LISTS _baton_export)
  get_target_property(_name ${_t} EXPORT_NAME)
  if(NOT _name)
    string(REGEX REPLACE "^baton_" "" _name "${_t}")
    set_target_properties(${_t} PROPERTIES EXPORT_NAME ${_name})
  endif()
endforeach()

# The public headers use C++20; consumers inherit that requirement.
foreach(_t baton baton_fence)
  if(TARGET ${_t})
    get_target_property(_features ${_t} INTERFACE_COMPILE_FEATURES)
    if(NOT _features OR NOT "cxx_std_20" IN_LIST _features)
      set_property(TARGET ${_t} APPEND PROPERTY INTERFACE_COMPILE_FEATURES cxx_std_20)
    endif()
  endif()
endforeach()

# What batonConfig.cmake must find again, and what baton.pc requires.
set(BATON_CONFIG_DEPENDENCIES "")
set(_baton_pc_requires "")
set(_baton_pc_extra_libs "")
foreach(_dep IN LISTS _baton_imported)
  if(_dep MATCHES "^PkgConfig::(.+)$")
    set(_prefix ${CMAKE_MATCH_1})
    set(_module ${_baton_pc_module_${_prefix}})
    if(NOT _module)
      message(FATAL_ERROR "BatonInstall: ${_dep} is linked but its pkg-config module is unknown: "
                          "add set(_baton_pc_module_${_prefix} <module>) to cmake/BatonInstall.cmake")
    endif()
    string(APPEND BATON_CONFIG_DEPENDENCIES
      "_baton_find_pkg(${_prefix} ${_module})\n")
    list(APPEND _baton_pc_requires ${_module})
  elseif(_dep STREQUAL "Threads::Threads")
    string(APPEND BATON_CONFIG_DEPENDENCIES "find_dependency(Threads)\n")
    list(APPEND _baton_pc_extra_libs -pthread)
  elseif(_dep MATCHES "^flatbuffers::")
    string(APPEND BATON_CONFIG_DEPENDENCIES "find_dependency(FlatBuffers)\n")
    list(APPEND _baton_pc_extra_libs -lflatbuffers)
  else()
    message(FATAL_ERROR "BatonInstall: ${_dep} is linked but batonConfig.cmake does not know how to "
                        "find it: teach cmake/BatonInstall.cmake")
  endif()
endforeach()

install(DIRECTORY ${PROJECT_SOURCE_DIR}/lib/include/baton
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}
        FILES_MATCHING PATTERN "*.hpp")
install(FILES ${PROJECT_BINARY_DIR}/include/baton/version.hpp
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/baton)
install(FILES ${PROJECT_SOURCE_DIR}/LICENSE ${PROJECT_SOURCE_DIR}/CHANGELOG.md
        DESTINATION ${CMAKE_INSTALL_DATADIR}/doc/baton)

install(TARGETS ${_baton_export}
        EXPORT batonTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
        RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR}
        INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(EXPORT batonTargets
        NAMESPACE baton::
        DESTINATION ${BATON_INSTALL_CMAKEDIR})

configure_package_config_file(
  ${CMAKE_CURRENT_LIST_DIR}/batonConfig.cmake.in
  ${PROJECT_BINARY_DIR}/cmake/batonConfig.cmake
  INSTALL_DESTINATION ${BATON_INSTALL_CMAKEDIR})
write_basic_package_version_file(
  ${PROJECT_BINARY_DIR}/cmake/batonConfigVersion.cmake
  VERSION ${PROJECT_VERSION}
  COMPATIBILITY SameMinorVersion)  # 0.x: every minor version may break the API
install(FILES ${PROJECT_BINARY_DIR}/cmake/batonConfig.cmake
              ${PROJECT_BINARY_DIR}/cmake/batonConfigVersion.cmake
        DESTINATION ${BATON_INSTALL_CMAKEDIR})

# baton.pc is relocatable: its prefix is found from the .pc file's own place,
# so `cmake --install <build> --prefix <anywhere>` works. The libraries are
# static, so their dependencies go in Requires (not Requires.private), which
# `pkg-config --libs baton` follows without --static.
if(IS_ABSOLUTE "${CMAKE_INSTALL_LIBDIR}")
  message(FATAL_ERROR "BatonInstall: CMAKE_INSTALL_LIBDIR must be relative to the prefix")
endif()
file(RELATIVE_PATH BATON_PC_PREFIX_FROM_PCFILEDIR
     "/prefix/${CMAKE_INSTALL_LIBDIR}/pkgconfig" "/prefix")
string(REGEX REPLACE "/$" "" BATON_PC_PREFIX_FROM_PCFILEDIR "${BATON_PC_PREFIX_FROM_PCFILEDIR}")
list(JOIN _baton_pc_requires " " BATON_PC_REQUIRES)
list(JOIN _baton_libs " " BATON_PC_LIBS)
list(JOIN _baton_pc_extra_libs " " BATON_PC_LIBS_EXTRA)
configure_file(${CMAKE_CURRENT_LIST_DIR}/baton.pc.in ${PROJECT_BINARY_DIR}/cmake/baton.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/cmake/baton.pc
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)

message(STATUS "Baton install: exports ${_baton_export}; re-finds: ${_baton_imported}")
