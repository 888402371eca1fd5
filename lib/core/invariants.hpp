// SPDX-License-Identifier: Apache-2.0
// Per-member invariants, checked by the tests and the simulator after every
// step (STYLE.md 7, in the spirit of LogCabin's RaftConsensusInvariants).
// Cluster-wide guarantees are the simulator checker's job.
#pragma once

#include <string>

namespace baton::core {

class Node;

// Empty string when every invariant holds; otherwise what broke.
std::string check_invariants(const Node& node);

}  // namespace baton::core
