# SPDX-License-Identifier: Apache-2.0
# cmake -P script: writes batonctl's man page with help2man (tools/CMakeLists.txt).
# Inputs: HELP2MAN, BATONCTL (the built program), OUT (batonctl.1), VERSION.
# help2man reads `batonctl --help` (NAME, SYNOPSIS, DESCRIPTION, the command
# list) and `batonctl --version`. Each command's own --help goes into a
# section of its own, COMMANDS IN DETAIL, and FILES and SEE ALSO describe
# the packaged setup (baton-node@.service, /etc/baton).
cmake_minimum_required(VERSION 3.25)
foreach(v HELP2MAN BATONCTL OUT VERSION)
  if(NOT DEFINED ${v} OR "${${v}}" STREQUAL "")
    message(FATAL_ERROR "man.cmake: ${v} is not set")
  endif()
endforeach()

# Runs batonctl with the given arguments into `out`; fails on a non-zero exit.
function(batonctl_output out)
  execute_process(COMMAND "${BATONCTL}" ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE text ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "man.cmake: `batonctl ${ARGN}` exited ${rc}: ${err}")
  endif()
  set(${out} "${text}" PARENT_SCOPE)
endfunction()

# Text as roff that keeps its layout: backslashes escaped, and a line that
# starts with a dot or an apostrophe (a roff request) guarded by \&.
function(roff_verbatim out text)
  string(REPLACE "\\" "\\e" text "${text}")
  string(REGEX REPLACE "(^|\n)([.'])" "\\1\\\\&\\2" text "${text}")
  set(${out} ".nf\n${text}.fi\n" PARENT_SCOPE)
endfunction()

# The commands, as `batonctl --help` lists them under "commands:".
batonctl_output(help --help)
string(REGEX MATCH "\ncommands:\n(([ ][ ][a-z]+[^\n]*\n)+)" _ "${help}")
if(NOT CMAKE_MATCH_1)
  message(FATAL_ERROR "man.cmake: no \"commands:\" list in `batonctl --help`:\n${help}")
endif()
string(REGEX MATCHALL "\n  [a-z]+" commands "\n${CMAKE_MATCH_1}")
set(include_text "[COMMANDS IN DETAIL]\n")
foreach(c IN LISTS commands)
  string(STRIP "${c}" c)
  batonctl_output(command_help ${c} --help)
  roff_verbatim(body "${command_help}")
  string(APPEND include_text ".SS \"batonctl ${c}\"\n${body}")
endforeach()
string(APPEND include_text [=[
[FILES]
.TP
.I /etc/baton/NAME.toml
The configuration of the member that the systemd unit
.B baton-node@NAME.service
runs with
.BR "batonctl node \-\-config /etc/baton/NAME.toml" .
The commented original is
.IR /usr/share/doc/baton-tools/examples/node.toml .
.TP
.I /etc/baton/cluster.key
The cluster key
.RB ( "batonctl keygen" ),
the same on every member, readable by root only. The unit hands it to the
member as a systemd credential.
.TP
.I /var/lib/baton/NAME
The member's state directory under the unit (StateDirectory=baton/NAME).
[COPYRIGHT]
Licensed under the Apache License, Version 2.0; on Debian systems its text is
in /usr/share/common-licenses/Apache-2.0.
[SEE ALSO]
The operations manual, docs/operations.md in the Baton sources: running a
cluster, bootstrapping it, clients, choosing ttl, rho and the margin, reading
.BR "batonctl status" .
]=])
file(WRITE "${OUT}.h2m" "${include_text}")

execute_process(
  COMMAND "${HELP2MAN}" --no-info --section 1 --source "Baton ${VERSION}" --manual "Baton"
          --name "run and inspect the members of a Baton lease cluster"
          --include "${OUT}.h2m" --output "${OUT}" "${BATONCTL}"
  RESULT_VARIABLE rc ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "man.cmake: help2man failed (${rc}): ${err}")
endif()
