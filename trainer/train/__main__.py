"""``python -m trainer.train --config train.toml [--resume]``; also the module to give
``accelerate launch -m trainer.train ...`` for multi-GPU runs."""

import argparse
import sys

from trainer.train.cli import add_run_arguments, run_command_from_args

parser = argparse.ArgumentParser(prog="bbj-coder train run", description=__doc__)
add_run_arguments(parser)
sys.exit(run_command_from_args(parser.parse_args()))
