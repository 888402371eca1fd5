// SPDX-License-Identifier: Apache-2.0
// The benchmark programs' flags: CLI11 (docs/dependencies.md), with one exit
// convention for all of them.
#pragma once

#include <CLI/CLI.hpp>
#include <cstdio>

namespace baton::bench {

// Parses argv into `app`'s options. Returns -1 to go on, else the exit code:
// 0 after --help (printed to stdout), 2 after a bad flag (the message, which
// names the flag and the value, on stderr).
inline int parse_flags(CLI::App& app, int argc, char** argv) {
  try {
    app.parse(argc, argv);
    return -1;
  } catch (const CLI::CallForHelp&) {
    std::fputs(app.help().c_str(), stdout);
    return 0;
  } catch (const CLI::ParseError& e) {
    std::fprintf(stderr, "%s: %s (see --help)\n", app.get_name().c_str(), e.what());
    return 2;
  }
}

}  // namespace baton::bench
