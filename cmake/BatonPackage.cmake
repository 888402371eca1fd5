# SPDX-License-Identifier: Apache-2.0
# Debian packages with CPack (scripts/package.sh; docs/operations.md,
# "Packages"). One package per install component of cmake/BatonInstall.cmake
# and tools/CMakeLists.txt:
#   libbaton0     runtime      libbaton.so.0 (SONAME), Depends from dpkg-shlibdeps
#   libbaton-dev  development  headers, libbaton.so, libbaton.a, the CMake package
#                              (baton::baton, baton::fence), baton.pc and
#                              baton-static.pc
#   baton-tools   tools        batonctl, batonctl(1), baton-node@.service, the
#                              example node.toml
# The shared library only exists with BUILD_SHARED_LIBS=ON (with the archive
# beside it, BATON_STATIC_ARCHIVE); a static build makes libbaton-dev and
# baton-tools only. batonctl links Baton's layers statically (it uses
# internals that libbaton.so hides), so baton-tools does not need libbaton0.
include_guard(GLOBAL)

# A placeholder (.invalid is a reserved domain): whoever publishes the
# packages sets their own (scripts/package.sh --maintainer).
set(BATON_PACKAGE_MAINTAINER "Baton maintainers <maintainers@baton.invalid>" CACHE STRING
    "The Maintainer field of the Debian packages")
set(BATON_PACKAGE_RELEASE 1 CACHE STRING "The Debian revision of the packages (VERSION-RELEASE)")

# Debian's copyright file, one per package: the Apache-2.0 text is in
# /usr/share/common-licenses on every Debian system.
set(_copyright "${PROJECT_BINARY_DIR}/cmake/copyright")
file(WRITE "${_copyright}" "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: baton
Source: the Baton sources (LICENSE, CHANGELOG.md)

Files: *
Copyright: the Baton authors
License: Apache-2.0
 On Debian systems, the full text of the Apache License, Version 2.0 is in
 /usr/share/common-licenses/Apache-2.0; the sources carry it as LICENSE.
")

set(_components "")
set(CPACK_DEBIAN_RUNTIME_PACKAGE_NAME libbaton0)
set(CPACK_DEBIAN_DEVELOPMENT_PACKAGE_NAME libbaton-dev)
set(CPACK_DEBIAN_TOOLS_PACKAGE_NAME baton-tools)
foreach(_c runtime development tools)
  string(TOUPPER ${_c} _C)
  if(_c STREQUAL "runtime" AND NOT BUILD_SHARED_LIBS)
    continue()
  endif()
  list(APPEND _components ${_c})
  install(FILES "${_copyright}" DESTINATION ${CMAKE_INSTALL_DATADIR}/doc/${CPACK_DEBIAN_${_C}_PACKAGE_NAME}
          COMPONENT ${_c})
endforeach()

# CPACK_STRIP_FILES strips batonctl and libbaton.so but not archives: strip
# the debug information from libbaton.a too (62 MB -> about 6 MB).
install(CODE "
  set(_a \"\$ENV{DESTDIR}\${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_LIBDIR}/libbaton.a\")
  if(CMAKE_INSTALL_DO_STRIP AND EXISTS \"\${_a}\")
    execute_process(COMMAND \"${CMAKE_STRIP}\" --strip-debug \"\${_a}\" RESULT_VARIABLE _rc)
    if(NOT _rc EQUAL 0)
      message(FATAL_ERROR \"strip --strip-debug \${_a} failed: \${_rc}\")
    endif()
  endif()" COMPONENT development)

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME baton)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_VENDOR "Baton")
set(CPACK_PACKAGE_CONTACT "${BATON_PACKAGE_MAINTAINER}")
set(CPACK_RESOURCE_FILE_LICENSE "${PROJECT_SOURCE_DIR}/LICENSE")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)  # the debug information stays in the build tree
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_COMPONENTS_ALL ${_components})
set(CPACK_COMPONENTS_GROUPING IGNORE)  # one package per component

set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)  # name_version-release_arch.deb
set(CPACK_DEBIAN_PACKAGE_RELEASE ${BATON_PACKAGE_RELEASE})
set(CPACK_DEBIAN_PACKAGE_MAINTAINER "${BATON_PACKAGE_MAINTAINER}")
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
# Depends of the packages with ELF files come from dpkg-shlibdeps (libc6,
# libstdc++6, libuv1, libsodium23); libbaton0 gets a shlibs file and the
# ldconfig trigger. The shlibs policy is "=": while Baton is 0.x the SONAME
# stays libbaton.so.0 but a minor release may change the ABI, so a program
# packaged against libbaton0 depends on exactly its version
# (docs/operations.md, "Versions and compatibility").
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_GENERATE_SHLIBS ON)
set(CPACK_DEBIAN_PACKAGE_GENERATE_SHLIBS_POLICY "=")

set(_v "${PROJECT_VERSION}-${BATON_PACKAGE_RELEASE}")
set(CPACK_DEBIAN_RUNTIME_PACKAGE_SECTION libs)
set(CPACK_DEBIAN_RUNTIME_DESCRIPTION "Baton: leases with fencing tokens (shared library)
Baton hands out leases voted by a majority of the members of a static
cluster over UDP, timed on each holder's monotonic clock with a bounded
drift, each with a strictly increasing fencing token that the protected
resource uses to reject a stale holder. This package holds libbaton.so.0.")
set(CPACK_DEBIAN_DEVELOPMENT_PACKAGE_SECTION libdevel)
# The headers and libbaton.so need the library of the same version; the
# static libbaton.a (and baton.pc's Requires.private) need libuv and
# libsodium's development files.
set(_dev_depends "libuv1-dev, libsodium-dev")
if(BUILD_SHARED_LIBS)
  set(_dev_depends "libbaton0 (= ${_v}), ${_dev_depends}")
endif()
set(CPACK_DEBIAN_DEVELOPMENT_PACKAGE_DEPENDS "${_dev_depends}")
set(CPACK_DEBIAN_DEVELOPMENT_DESCRIPTION "Baton: leases with fencing tokens (development files)
The C++20 headers of Baton's public API (baton/*.hpp, and the header-only
fencing helper baton/fence.hpp), libbaton.so and the static libbaton.a,
the CMake package (find_package(baton): baton::baton, baton::fence) and
the pkg-config files baton.pc and baton-static.pc.")
set(CPACK_DEBIAN_TOOLS_PACKAGE_SECTION admin)
set(CPACK_DEBIAN_TOOLS_DESCRIPTION "Baton: leases with fencing tokens (batonctl and the systemd unit)
batonctl runs the members of a Baton cluster, takes leases, asks members
for their status and measures a cluster. baton-node@.service runs a
member from /etc/baton/NAME.toml (systemctl enable --now baton-node@NAME).")

include(CPack)
