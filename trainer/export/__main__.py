"""``python -m trainer.export --run RUN [--quant Q4_K_M ...]`` (as ``bbj-coder train export``)."""

import argparse
import sys

from trainer.export.cli import add_export_arguments, export_command_from_args

parser = argparse.ArgumentParser(prog="bbj-coder train export", description=__doc__)
add_export_arguments(parser)
sys.exit(export_command_from_args(parser.parse_args()))
