"""``python -m trainer.data``: the same command as ``bbj-coder train data``."""

from __future__ import annotations

import argparse
import sys

from trainer.data.cli import add_data_arguments, data_command_from_args


def main() -> int:
    parser = argparse.ArgumentParser(
        prog="bbj-coder train data",
        description="Build chat, FIM and pretraining data with a report and a manifest.",
    )
    add_data_arguments(parser)
    return data_command_from_args(parser.parse_args())


if __name__ == "__main__":
    sys.exit(main())
