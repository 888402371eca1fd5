// SPDX-License-Identifier: Apache-2.0
// BATON_EXPORT marks the public API: the classes and functions of
// lib/include/baton that an application calls. Baton is compiled with hidden
// visibility (CMake CXX_VISIBILITY_PRESET hidden, VISIBILITY_INLINES_HIDDEN),
// so libbaton.so exports these and nothing else: the core, codec and runtime
// inside it stay private (tests/package checks that no baton::core symbol
// is exported). One header serves the shared and the static library: in an
// archive the attribute changes nothing for the program that links it.
#pragma once

// BATON_NO_EXPORT is for Baton's own implementation types nested in an
// exported class (Cluster::Impl, Lease::State): a nested class takes its
// enclosing class's visibility, which would export their members too.
#if defined(__GNUC__) || defined(__clang__)
#define BATON_EXPORT __attribute__((visibility("default")))
#define BATON_NO_EXPORT __attribute__((visibility("hidden")))
#else
#define BATON_EXPORT
#define BATON_NO_EXPORT
#endif
