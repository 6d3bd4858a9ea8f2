"""``bbj-coder train export``: the argparse wiring and the entry function."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from trainer.export.merge import DTYPES
from trainer.export.quantize import QUANTS, normalise_quant
from trainer.train.errors import TrainError


def add_export_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--run", type=Path, required=True, help="Run directory of a finished `bbj-coder train run`."
    )
    parser.add_argument(
        "--quant",
        action="append",
        default=None,
        metavar="TYPE",
        help=f"Quantisation to write (repeatable; default Q4_K_M): {', '.join(QUANTS)}.",
    )
    parser.add_argument(
        "--out", type=Path, default=None, help="Output directory (default: RUN/export)."
    )
    parser.add_argument(
        "--name", default=None, help="Model name (default: bbj-coder-<run directory name>)."
    )
    parser.add_argument(
        "--dtype",
        choices=DTYPES,
        default="float32",
        help="Precision the base is loaded in for the merge (float32 is exact; "
        "bfloat16 halves the memory for large models).",
    )
    parser.add_argument(
        "--context-length",
        type=int,
        default=None,
        help="Context length written into the GGUF (default: the model's).",
    )
    parser.add_argument(
        "--no-lora", dest="lora", action="store_false", help="Do not write the LoRA adapter GGUF."
    )
    parser.add_argument(
        "--save-merged",
        action="store_true",
        help="Also keep the merged Hugging Face model in OUT/merged.",
    )
    parser.add_argument(
        "--card-only",
        action="store_true",
        help="Only rewrite the model card (e.g. after `train eval`).",
    )


def export_command_from_args(args: argparse.Namespace) -> int:
    """Exit status: 0 done, 1 export failed (disk full, llama.cpp error), 2 bad input, 130
    interrupted."""
    from trainer.export.run import ExportOptions, run_export

    try:
        quants = tuple(dict.fromkeys(normalise_quant(q) for q in (args.quant or ["Q4_K_M"])))
        options = ExportOptions(
            run=args.run,
            quants=quants,
            out=args.out,
            name=args.name,
            dtype=args.dtype,
            lora=args.lora,
            save_merged=args.save_merged,
            card_only=args.card_only,
            context_length=args.context_length,
        )
        run_export(options)
    except TrainError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("\ninterrupted: nothing was published", file=sys.stderr)
        return 130
    except OSError as exc:
        print(
            f"error: the export failed writing a file ({exc}); nothing was published.",
            file=sys.stderr,
        )
        return 1
    return 0
