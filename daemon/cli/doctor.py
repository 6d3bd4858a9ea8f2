"""``bbj-coder doctor``: every health check with a verdict and what to do."""

from __future__ import annotations

import argparse
from typing import Any


def cmd_doctor(args: argparse.Namespace) -> int:
    from daemon.setup.doctor import run_doctor_command

    return run_doctor_command(args.json)


def add_parsers(sub: Any) -> None:
    doctor = sub.add_parser("doctor", help="run every health check and print the verdicts")
    doctor.add_argument("--json", action="store_true", help="machine-readable output")
    doctor.set_defaults(handler=cmd_doctor)
