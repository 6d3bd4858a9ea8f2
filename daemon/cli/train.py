"""``bbj-coder train data|run|export|eval``: handed to the trainer's own parsers.

The arguments after the action are passed through untouched, so building ``--help`` for the
whole CLI never imports the trainer; ``bbj-coder train data --help`` shows the trainer's help.
"""

from __future__ import annotations

import argparse
import importlib
from typing import Any

# action -> (help, trainer module, function adding its arguments, entry function)
ACTIONS = {
    "data": (
        "build clean FIM, ChatML and pretraining data",
        "trainer.data",
        "add_data_arguments",
        "data_command_from_args",
    ),
    "run": (
        "two-stage (Q)LoRA: continued pretraining, then instruction tuning",
        "trainer.train",
        "add_run_arguments",
        "run_command_from_args",
    ),
    "export": (
        "merge, convert to GGUF, quantise; Modelfile, model card, manifest",
        "trainer.export",
        "add_export_arguments",
        "export_command_from_args",
    ),
    "eval": (
        "compile@1, FIM exact match and edit similarity, base vs fine-tuned",
        "trainer.evaluate",
        "add_eval_arguments",
        "eval_command_from_args",
    ),
}


def cmd_train(args: argparse.Namespace) -> int:
    help_text, module_name, adder, entry = ACTIONS[args.train_command]
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        print(
            f"bbj-coder: the trainer is not installed ({exc}); install the [train] extra: "
            "pip install 'bbj-coder[train]'."
        )
        return 2
    parser = argparse.ArgumentParser(
        prog=f"bbj-coder train {args.train_command}", description=help_text
    )
    getattr(module, adder)(parser)
    trainer_args = parser.parse_args(args.passthrough)
    return int(getattr(module, entry)(trainer_args))


def add_parsers(sub: Any) -> None:
    train = sub.add_parser("train", help="build training data and train the model")
    train_sub = train.add_subparsers(dest="train_command", required=True, metavar="ACTION")
    for name, (help_text, *_rest) in ACTIONS.items():
        action = train_sub.add_parser(name, help=help_text, add_help=False)
        action.set_defaults(handler=cmd_train, passthrough=[])
