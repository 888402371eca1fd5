# SPDX-License-Identifier: Apache-2.0
# Install and export rules: the public headers, the one library libbaton
# (lib/CMakeLists.txt), a CMake package (find_package(baton) -> baton::baton,
# baton::fence) and pkg-config files. The internal layers (baton_core,
# baton_codec, baton_runtime, baton_api) are inside libbaton and are neither
# installed nor exported.
#
# What is installed depends on BUILD_SHARED_LIBS:
#   OFF (default)  libbaton.a;                     baton.pc and baton-static.pc
#                  describe it
#   ON             libbaton.so.0 (+ libbaton.a with BATON_STATIC_ARCHIVE);
#                  baton.pc describes the shared library, baton-static.pc
#                  the archive
# batonConfig.cmake defines baton::baton as the shared library when one is
# installed, else as the archive; BATON_USE_STATIC_LIBS=ON before
# find_package(baton) asks for the archive (docs/operations.md, "Packages").
#
# Install components (the Debian packages of cmake/BatonPackage.cmake):
#   runtime      libbaton.so.0 and its versioned file      -> libbaton0
#   development  headers, libbaton.so, libbaton.a, CMake package,
#                pkg-config files                           -> libbaton-dev
#   tools        batonctl, its man page, the systemd unit   -> baton-tools
include_guard(GLOBAL)
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

# Where batonConfig.cmake is installed, relative to the prefix (beside the
# library, which may be in a multiarch directory: lib/x86_64-linux-gnu).
set(BATON_INSTALL_CMAKEDIR "${CMAKE_INSTALL_LIBDIR}/cmake/baton")

if(NOT TARGET baton)
  message(STATUS "Baton install: no library target yet; installing nothing")
  return()
endif()

# The installed library targets: at most one shared and one static.
get_target_property(_baton_type baton TYPE)
set(_baton_shared_target "")
set(_baton_static_target "")
if(_baton_type STREQUAL "SHARED_LIBRARY")
  set(_baton_shared_target baton)
  if(TARGET baton_static)
    set(_baton_static_target baton_static)
  endif()
else()
  set(_baton_static_target baton)
endif()

# What a static libbaton's users must link too: batonConfig.cmake finds each
# again, and baton.pc/baton-static.pc require it.
set(_baton_pc_module_LIBUV libuv)
set(_baton_pc_module_SODIUM libsodium)
set(BATON_CONFIG_DEPENDENCIES "")
set(_baton_pc_requires "")
set(_baton_pc_extra_libs "")
foreach(_dep IN LISTS BATON_LIBRARY_DEPENDENCIES)
  if(_dep MATCHES "^PkgConfig::(.+)$")
    set(_prefix ${CMAKE_MATCH_1})
    set(_module ${_baton_pc_module_${_prefix}})
    if(NOT _module)
      message(FATAL_ERROR "BatonInstall: ${_dep} is linked but its pkg-config module is unknown: "
                          "add set(_baton_pc_module_${_prefix} <module>) to cmake/BatonInstall.cmake")
    endif()
    string(APPEND BATON_CONFIG_DEPENDENCIES "  _baton_find_pkg(${_prefix} ${_module})\n")
    list(APPEND _baton_pc_requires ${_module})
  elseif(_dep STREQUAL "Threads::Threads")
    string(APPEND BATON_CONFIG_DEPENDENCIES "  find_dependency(Threads)\n")
    list(APPEND _baton_pc_extra_libs -pthread)
  else()
    message(FATAL_ERROR "BatonInstall: ${_dep} is linked but batonConfig.cmake does not know how to "
                        "find it: teach cmake/BatonInstall.cmake")
  endif()
endforeach()

set_target_properties(baton_fence PROPERTIES EXPORT_NAME fence)
set_property(TARGET baton_fence APPEND PROPERTY INTERFACE_COMPILE_FEATURES cxx_std_20)

install(DIRECTORY ${PROJECT_SOURCE_DIR}/lib/include/baton
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}
        COMPONENT development
        FILES_MATCHING PATTERN "*.hpp")
install(FILES ${PROJECT_BINARY_DIR}/include/baton/version.hpp
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/baton
        COMPONENT development)
install(FILES ${PROJECT_SOURCE_DIR}/LICENSE ${PROJECT_SOURCE_DIR}/CHANGELOG.md
        DESTINATION ${CMAKE_INSTALL_DATADIR}/doc/baton
        COMPONENT development)

# One export set per installed library, each defining baton::baton (and
# baton::fence): batonConfig.cmake includes one of them.
set(_baton_variants "")
if(_baton_shared_target)
  set_target_properties(baton PROPERTIES EXPORT_NAME baton)
  install(TARGETS baton baton_fence
          EXPORT batonSharedTargets
          LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
            COMPONENT runtime
            NAMELINK_COMPONENT development
          INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
  install(EXPORT batonSharedTargets NAMESPACE baton:: DESTINATION ${BATON_INSTALL_CMAKEDIR}
          FILE batonTargets-shared.cmake COMPONENT development)
  list(APPEND _baton_variants shared)
endif()
if(_baton_static_target)
  set_target_properties(${_baton_static_target} PROPERTIES EXPORT_NAME baton)
  install(TARGETS ${_baton_static_target} baton_fence
          EXPORT batonStaticTargets
          ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT development
          INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
  install(EXPORT batonStaticTargets NAMESPACE baton:: DESTINATION ${BATON_INSTALL_CMAKEDIR}
          FILE batonTargets-static.cmake COMPONENT development)
  list(APPEND _baton_variants static)
endif()
list(GET _baton_variants 0 BATON_DEFAULT_VARIANT)
set(BATON_VARIANTS "${_baton_variants}")

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
        DESTINATION ${BATON_INSTALL_CMAKEDIR}
        COMPONENT development)

# The .pc files are relocatable: their prefix is found from the file's own
# place, so `cmake --install <build> --prefix <anywhere>` (or dpkg -x into a
# scratch root) works.
if(IS_ABSOLUTE "${CMAKE_INSTALL_LIBDIR}")
  message(FATAL_ERROR "BatonInstall: CMAKE_INSTALL_LIBDIR must be relative to the prefix")
endif()
file(RELATIVE_PATH BATON_PC_PREFIX_FROM_PCFILEDIR
     "/prefix/${CMAKE_INSTALL_LIBDIR}/pkgconfig" "/prefix")
string(REGEX REPLACE "/$" "" BATON_PC_PREFIX_FROM_PCFILEDIR "${BATON_PC_PREFIX_FROM_PCFILEDIR}")
list(JOIN _baton_pc_requires " " _requires)
list(JOIN _baton_pc_extra_libs " " _extra_libs)

# Writes ${file} from baton.pc.in; the arguments are the fields that differ.
function(_baton_pc file name description requires requires_private libs libs_private)
  set(BATON_PC_NAME "${name}")
  set(BATON_PC_DESCRIPTION "${description}")
  set(BATON_PC_REQUIRES "${requires}")
  set(BATON_PC_REQUIRES_PRIVATE "${requires_private}")
  set(BATON_PC_LIBS "${libs}")
  set(BATON_PC_LIBS_PRIVATE "${libs_private}")
  configure_file(${CMAKE_CURRENT_FUNCTION_LIST_DIR}/baton.pc.in ${PROJECT_BINARY_DIR}/cmake/${file} @ONLY)
  install(FILES ${PROJECT_BINARY_DIR}/cmake/${file} DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig
          COMPONENT development)
endfunction()
set(_what "Leases with fencing tokens, voted over UDP by the members of a static cluster")
if(_baton_shared_target)
  # libbaton.so links its dependencies itself: they matter only to --static.
  _baton_pc(baton.pc baton "${_what}" "" "${_requires}" "-L\${libdir} -lbaton" "${_extra_libs}")
endif()
if(_baton_static_target)
  # The archive by its path, so that the linker cannot pick libbaton.so;
  # its dependencies in Requires and Libs, which `pkg-config --libs` follows
  # without --static.
  _baton_pc(baton-static.pc baton-static "${_what} (static library)" "${_requires}" ""
    "\${libdir}/libbaton.a ${_extra_libs}" "")
  if(NOT _baton_shared_target)
    _baton_pc(baton.pc baton "${_what}" "${_requires}" "" "\${libdir}/libbaton.a ${_extra_libs}" "")
  endif()
endif()

message(STATUS "Baton install: libbaton ${_baton_variants} (find_package default: ${BATON_DEFAULT_VARIANT})")
