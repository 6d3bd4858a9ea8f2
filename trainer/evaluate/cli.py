"""``bbj-coder train eval``: the argparse wiring and the entry function."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from trainer.train.errors import TrainError


def add_eval_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--model",
        action="append",
        required=True,
        metavar="[LABEL=]PATH",
        help="A .gguf file or a Hugging Face model directory; repeat it to "
        "compare (base first, fine-tuned last).",
    )
    parser.add_argument(
        "--data",
        type=Path,
        required=True,
        help="`bbj-coder train data` output whose validation split is used.",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=Path("eval"),
        help="Where eval.md, eval.json and eval_items.jsonl go (default: "
        "./eval; RUN/eval puts the table in the model card).",
    )
    parser.add_argument(
        "--max-new-tokens", type=int, default=512, help="Longest chat answer in tokens."
    )
    parser.add_argument(
        "--fim-max-tokens", type=int, default=128, help="Longest FIM completion in tokens."
    )
    parser.add_argument(
        "--samples",
        type=int,
        default=1,
        help="Sampled answers per chat prompt for compile@k (1: greedy only).",
    )
    parser.add_argument(
        "--k",
        type=int,
        action="append",
        default=None,
        help="k of compile@k (repeatable; default 1 and 5 when sampling).",
    )
    parser.add_argument(
        "--temperature", type=float, default=0.8, help="Sampling temperature for compile@k."
    )
    parser.add_argument(
        "--limit",
        type=int,
        default=None,
        help="Evaluate at most this many chat prompts and FIM samples.",
    )
    parser.add_argument(
        "--checker",
        choices=("auto", "bbjcpl", "builtin"),
        default="auto",
        help="auto uses bbjcpl when it is found, else the built-in checker.",
    )
    parser.add_argument("--bbjcpl", default=None, help="Path to bbjcpl.")
    parser.add_argument("--n-ctx", type=int, default=4096, help="Context window for GGUF models.")
    parser.add_argument("--seed", type=int, default=0, help="Seed of the sampled answers.")
    parser.add_argument(
        "--no-progress",
        dest="progress",
        action="store_false",
        help="Do not draw the progress line.",
    )


def eval_command_from_args(args: argparse.Namespace) -> int:
    """Exit status: 0 done, 1 a model failed, 2 bad input, 130 interrupted."""
    from trainer.evaluate.run import EvalOptions, parse_model, run_eval
    from trainer.evaluate.tasks import ChatSettings

    ks = tuple(args.k or ((1, 5) if args.samples > 1 else (1,)))
    options = EvalOptions(
        models=tuple(parse_model(text) for text in args.model),
        data=args.data,
        out=args.out,
        chat=ChatSettings(
            max_tokens=args.max_new_tokens,
            samples=max(1, args.samples),
            temperature=args.temperature,
            ks=ks,
            seed=args.seed,
        ),
        fim_max_tokens=args.fim_max_tokens,
        limit=args.limit,
        checker=args.checker,
        bbjcpl=args.bbjcpl,
        n_ctx=args.n_ctx,
        progress=args.progress,
    )
    from daemon.errors import BbjCoderError

    try:
        run_eval(options)
    except TrainError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    except BbjCoderError as exc:  # the model failed while generating
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\ninterrupted: no report was written", file=sys.stderr)
        return 130
    return 0
