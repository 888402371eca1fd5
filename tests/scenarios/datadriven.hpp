// SPDX-License-Identifier: Apache-2.0
// A small reader/writer for etcd-raft style datadriven scripts.
//
// A script is a sequence of blocks. Each block is any number of comment
// (`#`) and blank lines, then one command line, a `----` line, and the
// expected output: every following line up to the next blank line (or the end
// of the file). Outputs therefore never contain blank lines.
//
//   # the acquirer's own voter grants in-process
//   acquire n1 seat:14A ttl=10s
//   ----
//   n1: acquire #1 seat:14A
//
// Rewriting keeps the comments and commands and replaces every output.
#pragma once

#include <map>
#include <string>
#include <vector>

namespace baton::scenario {

// One parsed command line: `name pos... key=value...`.
struct Cmd {
  std::string name;
  std::vector<std::string> pos;             // positional arguments, in order
  std::map<std::string, std::string> args;  // key=value arguments
  std::string text;                         // the line as written
  int line = 0;                             // 1-based line number in the script
};

struct Block {
  std::vector<std::string> preamble;  // comment and blank lines before the command
  Cmd cmd;
  std::string expected;               // expected output lines joined by '\n' (no trailing newline)
};

struct Script {
  std::vector<Block> blocks;
  std::vector<std::string> trailer;  // comment/blank lines after the last block
};

Cmd parse_command(const std::string& line, int line_no);
// Throws std::runtime_error on a malformed script.
Script parse_script(const std::string& text);
// Renders `script` with `outputs[i]` as the output of block i.
std::string render_script(const Script& script, const std::vector<std::string>& outputs);

}  // namespace baton::scenario
