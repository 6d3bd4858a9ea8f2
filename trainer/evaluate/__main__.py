"""``python -m trainer.evaluate --model A --model B --data DIR`` (as ``bbj-coder train eval``)."""

import argparse
import sys

from trainer.evaluate.cli import add_eval_arguments, eval_command_from_args

parser = argparse.ArgumentParser(prog="bbj-coder train eval", description=__doc__)
add_eval_arguments(parser)
sys.exit(eval_command_from_args(parser.parse_args()))
