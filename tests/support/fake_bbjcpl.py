#!/usr/bin/env python3
"""A stand-in for bbjcpl (the BBj compiler) that reproduces its documented behaviour.

``fake_bbjcpl -N FILE`` always exits 0. It flags two simple, well-defined things on its own
(it knows nothing of the built-in checker): a line containing the word ``SYNTAXERROR`` and a
line with an odd number of ``"`` characters. Each error is one stderr line in bbjcpl's format::

    <path>: error at line <BASIC line> (<physical line>):  <source line>

The BASIC line is the line's own number for line-numbered lines, physical x 10 otherwise.

Environment variables select variants:

``FAKE_BBJCPL_MODE``
    ``normal`` (default); ``fatal`` (one ``stdin: error: ...`` line, no per-line errors);
    ``slow`` (sleeps ``FAKE_BBJCPL_SLEEP`` seconds first, default 30); ``windows`` (reports the
    path as ``C:\\work\\x.bbj``); ``garbage`` (adds a line bbjcpl's format does not cover).
``FAKE_BBJCPL_LOG``
    A file that gets ``start <time> <pid>`` and ``end <time> <pid>`` lines for every run.
``FAKE_BBJCPL_CHILD_PIDFILE``
    In ``slow`` mode, start a sleeping child process and write its pid here (to prove that a
    timeout kills the whole process tree).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time

WINDOWS_PATH = "C:\\work\\x.bbj"
_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_LINE_NUMBER = re.compile(r"\s*(\d+)")
_SYNTAXERROR = re.compile(r"\bSYNTAXERROR\b")


def _log(event: str) -> None:
    path = os.environ.get("FAKE_BBJCPL_LOG")
    if path:
        with open(path, "a", encoding="utf-8") as log:
            log.write(f"{event} {time.time():.6f} {os.getpid()}\n")


def _start_sleeping_child() -> None:
    pidfile = os.environ.get("FAKE_BBJCPL_CHILD_PIDFILE")
    if not pidfile:
        return
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    with open(pidfile, "w", encoding="utf-8") as handle:
        handle.write(str(child.pid))


def _is_error(text: str) -> bool:
    return bool(_SYNTAXERROR.search(text)) or text.count('"') % 2 == 1


def _errors(path: str, shown_path: str) -> list[str]:
    with open(path, "rb") as source:
        text = source.read().decode("utf-8", errors="replace")
    found = []
    for physical, line in enumerate(_LINE_BREAK.split(text), start=1):
        if not _is_error(line):
            continue
        number = _LINE_NUMBER.match(line)
        basic = int(number.group(1)) if number else physical * 10
        found.append(f"{shown_path}: error at line {basic} ({physical}):  {line.rstrip()}")
    return found


def main(argv: list[str]) -> int:
    _log("start")
    mode = os.environ.get("FAKE_BBJCPL_MODE", "normal")
    files = [a for a in argv if not a.startswith("-")]
    if mode == "slow":
        _start_sleeping_child()
        time.sleep(float(os.environ.get("FAKE_BBJCPL_SLEEP", "30")))
    if mode == "fatal" or not files:
        print("stdin: error: unexpected end of input", file=sys.stderr)
        _log("end")
        return 0
    for path in files:
        shown = WINDOWS_PATH if mode == "windows" else path
        for line in _errors(path, shown):
            print(line, file=sys.stderr)
    if mode == "garbage":
        print("Exception in thread main: something odd happened", file=sys.stderr)
    _log("end")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
