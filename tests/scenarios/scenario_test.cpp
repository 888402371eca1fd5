// SPDX-License-Identifier: Apache-2.0
// Datadriven scenario tests of the protocol core (STYLE.md 9).
//
// Every testdata/*.txt is one test. Each command runs through its handler
// (handlers/), then every deadline already due fires, then the world checks
// every live node's invariants and Guarantees 1 and 2: a violation fails the
// test even where the script's expected output does not look at it.
//
// Rewrite the expected outputs in place:
//   build-scen/bin/scenario_tests --rewrite        (or BATON_REWRITE=1)
// then read the diff: the expected output is the specification.
#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include <gtest/gtest.h>

#include "datadriven.hpp"
#include "handlers/handlers.hpp"
#include "world.hpp"

namespace baton::scenario {
namespace {

namespace fs = std::filesystem;

bool rewrite_requested() {
  if (const char* e = std::getenv("BATON_REWRITE"); e && std::string(e) == "1") return true;
  for (const std::string& a : ::testing::internal::GetArgvs())
    if (a == "--rewrite") return true;
  return false;
}

std::vector<std::string> script_names() {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(BATON_SCENARIO_DIR))
    if (e.path().extension() == ".txt") out.push_back(e.path().stem().string());
  std::sort(out.begin(), out.end());
  return out;
}

std::string run_command(World& w, const Cmd& c) {
  auto it = handlers().find(c.name);
  if (it == handlers().end()) throw std::runtime_error("unknown command: " + c.name);
  if (!w.created() && c.name != "cluster") throw std::runtime_error("the first command must be `cluster`");
  std::string out = it->second(w, c);
  // A driver re-arms its timer after every call: what is due now fires now.
  w.fire_due(out);
  while (!out.empty() && out.back() == '\n') out.pop_back();
  return out.empty() ? "ok" : out;
}

class Scenario : public ::testing::TestWithParam<std::string> {};

TEST_P(Scenario, Run) {
  const fs::path path = fs::path(BATON_SCENARIO_DIR) / (GetParam() + ".txt");
  std::ifstream in(path);
  ASSERT_TRUE(in) << "cannot read " << path;
  std::stringstream buf;
  buf << in.rdbuf();
  const Script script = parse_script(buf.str());
  const bool rewrite = rewrite_requested();

  World w;
  std::vector<std::string> outputs;
  for (const Block& b : script.blocks) {
    std::string got;
    try {
      got = run_command(w, b.cmd);
    } catch (const std::exception& e) {
      ADD_FAILURE_AT(path.c_str(), b.cmd.line) << b.cmd.text << ": " << e.what();
      return;
    }
    const std::string bad = w.check_all();
    if (!bad.empty() && !w.violation_expected) {
      ADD_FAILURE_AT(path.c_str(), b.cmd.line) << "after `" << b.cmd.text << "`: " << bad;
      return;
    }
    if (!rewrite && got != b.expected) {
      ADD_FAILURE_AT(path.c_str(), b.cmd.line) << b.cmd.text << "\n--- expected\n" << b.expected << "\n--- got\n" << got;
    }
    outputs.push_back(std::move(got));
  }
  if (rewrite) {
    std::ofstream(path) << render_script(script, outputs);
  }
}

INSTANTIATE_TEST_SUITE_P(Testdata, Scenario, ::testing::ValuesIn(script_names()),
                         [](const ::testing::TestParamInfo<std::string>& p) {
                           std::string n = p.param;
                           for (char& ch : n)
                             if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
                           return n;
                         });

}  // namespace
}  // namespace baton::scenario
