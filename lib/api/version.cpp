// SPDX-License-Identifier: Apache-2.0
#include "baton/version.hpp"

namespace baton {

const char* version() noexcept { return BATON_VERSION_STRING; }

}  // namespace baton
