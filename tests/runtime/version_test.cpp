// SPDX-License-Identifier: Apache-2.0
// baton/version.hpp: generated from the CMake project version, and the
// library linked in reports the same one.
#include <gtest/gtest.h>

#include <string>

#include "baton/baton.hpp"

TEST(Version, MacrosLibraryAndProjectVersionAgree) {
  const std::string parts = std::to_string(BATON_VERSION_MAJOR) + "." + std::to_string(BATON_VERSION_MINOR) + "." +
                            std::to_string(BATON_VERSION_PATCH);
  EXPECT_EQ(parts, BATON_VERSION_STRING);
  EXPECT_EQ(std::string(baton::version()), BATON_VERSION_STRING) << "headers and library from different builds";
  EXPECT_EQ(std::string(baton::version()), BATON_EXPECTED_VERSION) << "not the CMake project version";
}
