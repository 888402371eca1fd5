// SPDX-License-Identifier: Apache-2.0
#include "datadriven.hpp"

#include <sstream>
#include <stdexcept>

namespace baton::scenario {

namespace {
bool is_blank(const std::string& s) { return s.find_first_not_of(" \t\r") == std::string::npos; }
bool is_comment(const std::string& s) {
  const auto p = s.find_first_not_of(" \t");
  return p != std::string::npos && s[p] == '#';
}
}  // namespace

Cmd parse_command(const std::string& line, int line_no) {
  Cmd c;
  c.text = line;
  c.line = line_no;
  std::istringstream in(line);
  std::string tok;
  while (in >> tok) {
    if (c.name.empty()) {
      c.name = tok;
      continue;
    }
    const auto eq = tok.find('=');
    if (eq != std::string::npos && eq > 0) {
      c.args[tok.substr(0, eq)] = tok.substr(eq + 1);
    } else {
      c.pos.push_back(tok);
    }
  }
  return c;
}

Script parse_script(const std::string& text) {
  std::vector<std::string> lines;
  {
    std::istringstream in(text);
    std::string l;
    while (std::getline(in, l)) lines.push_back(l);
  }
  Script s;
  std::vector<std::string> pending;
  std::size_t i = 0;
  while (i < lines.size()) {
    const std::string& l = lines[i];
    if (is_blank(l) || is_comment(l)) {
      pending.push_back(l);
      ++i;
      continue;
    }
    Block b;
    b.preamble = std::move(pending);
    pending.clear();
    b.cmd = parse_command(l, static_cast<int>(i + 1));
    ++i;
    if (i >= lines.size() || lines[i] != "----") {
      throw std::runtime_error("line " + std::to_string(b.cmd.line) + ": expected ---- after the command");
    }
    ++i;
    std::string out;
    while (i < lines.size() && !is_blank(lines[i])) {
      if (!out.empty()) out += '\n';
      out += lines[i];
      ++i;
    }
    b.expected = std::move(out);
    s.blocks.push_back(std::move(b));
  }
  s.trailer = std::move(pending);
  return s;
}

std::string render_script(const Script& script, const std::vector<std::string>& outputs) {
  std::string out;
  for (std::size_t i = 0; i < script.blocks.size(); ++i) {
    const Block& b = script.blocks[i];
    for (const std::string& l : b.preamble) out += l + '\n';
    // Exactly one blank line separates a block's output from what follows.
    if (i > 0 && (b.preamble.empty() || !is_blank(b.preamble.front()))) out += '\n';
    out += b.cmd.text + '\n';
    out += "----\n";
    if (i < outputs.size() && !outputs[i].empty()) out += outputs[i] + '\n';
  }
  for (const std::string& l : script.trailer) out += l + '\n';
  return out;
}

}  // namespace baton::scenario
