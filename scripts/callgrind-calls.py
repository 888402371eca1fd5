#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Calls and inclusive instructions per call of functions in a callgrind file.

usage: callgrind-calls.py FILE [FILE ...] [--fn SUBSTRING ...]

Instruction counts do not move with the host's load the way times do, so
two builds can be compared on shared machines: run each under
`valgrind --tool=callgrind --callgrind-out-file=F` and compare Ir/call.
Counts come from the call records (calls=N, then the call's inclusive
cost), summed over every caller of each function whose name contains one
of the substrings (default: the voter's message handlers).
"""
import re
import sys


def parse(path, patterns):
    names = {}
    result = {p: [0, 0] for p in patterns}
    callee = ''
    lines = open(path, encoding='utf-8', errors='replace').read().split('\n')

    def name_of(token):
        m = re.match(r'\((\d+)\)(?: (.*))?', token)
        if not m:
            return token
        if m.group(2):
            names[m.group(1)] = m.group(2)
        return names.get(m.group(1), '')

    i = 0
    while i < len(lines):
        line = lines[i]
        if line.startswith('fn='):
            name_of(line[3:])
        elif line.startswith('cfn='):
            callee = name_of(line[4:])
        elif line.startswith('calls='):
            calls = int(line[6:].split()[0])
            cost = lines[i + 1].split() if i + 1 < len(lines) else []
            ir = int(cost[1]) if len(cost) > 1 else 0
            for p in patterns:
                if p in callee:
                    result[p][0] += calls
                    result[p][1] += ir
            i += 1
        i += 1
    return result


def main(argv):
    files, patterns = [], []
    it = iter(argv)
    for a in it:
        if a == '--fn':
            patterns.append(next(it, ''))
        elif a in ('-h', '--help'):
            print(__doc__.strip())
            return 0
        else:
            files.append(a)
    if not files:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    patterns = patterns or ['Voter::on_request(', 'Voter::on_release(', 'Voter::on_renew(']
    for path in files:
        try:
            result = parse(path, patterns)
        except OSError as e:
            print(f'{path}: {e.strerror}', file=sys.stderr)
            return 1
        for p, (calls, ir) in result.items():
            per = f'{ir / calls:.0f}' if calls else '-'
            print(f'{path}\t{p}\tcalls {calls}\tIr/call {per}')
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
