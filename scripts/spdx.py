#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Every source file carries an SPDX license line (issue 22).

Usage: scripts/spdx.py [--check | --fix] [ROOT]
  --check  (default) list the tracked source files without the line; exit 1 if any
  --fix    add the line: first, or right after a '#!' line
ROOT defaults to the repository this script sits in. Files are those git
tracks (or, outside a git checkout, every file under ROOT), filtered by the
kinds below; test data, corpora, images and Markdown are not source.
"""
import os
import subprocess
import sys

TAG = "SPDX-License-Identifier: Apache-2.0"

# How each kind of file writes a comment line.
SLASH = "// "
HASH = "# "
HTML = "<!-- "


def comment_style(path):
    base = os.path.basename(path)
    if base == "CMakeLists.txt" or path.endswith((".cmake", ".cmake.in", ".pc.in", ".py", ".sh", ".gp", ".supp", ".toml", ".service")):
        return HASH
    if path.endswith((".cpp", ".hpp", ".h", ".hpp.in", ".fbs")):
        return SLASH
    if path.endswith(".html"):
        return HTML
    if path == ".ci/run":
        return HASH
    if "/poison/" in path and "." not in base:  # lib/core/poison/thread: a C++ header
        return SLASH
    return None


def tracked(root):
    try:
        out = subprocess.run(["git", "-C", root, "ls-files"], check=True, capture_output=True, text=True).stdout
        return [p for p in out.splitlines() if p]
    except (OSError, subprocess.CalledProcessError):
        files = []
        for d, _, names in os.walk(root):
            if "/build" in d or "/." in d:
                continue
            files += [os.path.relpath(os.path.join(d, n), root) for n in names]
        return files


def line_for(style):
    return style + TAG + (" -->" if style == HTML else "") + "\n"


def main(argv):
    mode = "--check"
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    for a in argv:
        if a in ("--check", "--fix"):
            mode = a
        elif a in ("-h", "--help"):
            print(__doc__.strip())
            return 0
        elif a.startswith("-"):
            print(f"spdx.py: unknown flag '{a}' (try --help)", file=sys.stderr)
            return 2
        else:
            root = a
    if not os.path.isdir(root):
        print(f"spdx.py: '{root}' is not a directory", file=sys.stderr)
        return 2
    missing = []
    for rel in tracked(root):
        style = comment_style(rel)
        path = os.path.join(root, rel)
        if style is None or not os.path.isfile(path):
            continue
        with open(path, encoding="utf-8") as f:
            lines = f.readlines()
        head = lines[:3]
        if any(TAG in l for l in head):
            continue
        missing.append(rel)
        if mode == "--fix":
            at = 1 if lines and lines[0].startswith("#!") else 0
            lines.insert(at, line_for(style))
            with open(path, "w", encoding="utf-8") as f:
                f.writelines(lines)
    if mode == "--check":
        for rel in missing:
            print(f"{rel}: no '{TAG}' line in its first three lines (fix: scripts/spdx.py --fix)")
        print(f"spdx.py: {len(missing)} source file(s) without the SPDX line")
        return 1 if missing else 0
    print(f"spdx.py: added the SPDX line to {len(missing)} file(s)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
