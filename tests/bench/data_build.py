"""Benchmark: ``bbj-coder train data`` on 10 000 synthetic examples and 1 000 source files.

Run: ``.venv/bin/python tests/bench/data_build.py [--examples N] [--files N] [--no-check]``.
It writes synthetic inputs to a temporary directory (Markdown examples, ChatML JSONL with some
duplicates and escaped newlines, BBj source trees in several projects), builds once with the
tiny test tokenizer and the built-in checker, and prints the timing. Not an assertion.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from daemon.models.tinymodel import build_tiny_model
from trainer.data.build import build_dataset
from trainer.data.config import DataConfig

MARKDOWN_SHARE = 0.2
GENERATIONS = ("all", "character", "vpro5", "bbj-gui", "dwc")
TYPES = ("completion", "comprehension", "explanation")
TASKS = (
    "sum the numbers",
    "print a report of",
    "read every record of",
    "sort the entries of",
    "count the lines of",
    "validate the fields of",
    "export to CSV",
    "show in a grid",
)
SUBJECTS = (
    "customers",
    "orders",
    "invoices",
    "the stock file",
    "vendors",
    "payments",
    "employees",
    "the price list",
    "open tickets",
    "shipments",
)


def program(rng: random.Random, index: int, lines: int) -> str:
    body = [f"rem generated program {index}", f"declare BBjNumber total{index}"]
    while len(body) < lines:
        n = rng.randint(1, 99)
        body += rng.choice(
            [
                [f"for i = 1 to {n}", f'    print "item ", i, " of {index}"', "next i"],
                [f"if total{index} > {n} then", f"    total{index} = total{index} - {n}", "fi"],
                [f"while total{index} < {n}", f"    total{index} = total{index} + 1", "wend"],
                [f'name$ = "entry {n}"', "print name$"],
            ]
        )
    return "\n".join(body) + "\nend\n"


def write_markdown(folder: Path, rng: random.Random, count: int) -> None:
    folder.mkdir(parents=True)
    for index in range(count):
        kind = TYPES[index % len(TYPES)]
        task = f"{rng.choice(TASKS)} {rng.choice(SUBJECTS)} (variant {index})"
        text = (
            f"---\ntitle: Example {index}\ntype: {kind}\n"
            f"generation: {GENERATIONS[index % len(GENERATIONS)]}\ndescription: {task}\n---\n\n"
            f"## Code\n\n```bbj\n{program(rng, index, 12)}```\n\n"
            f"## Explanation\n\nThis program shows how to {task}. It loops and prints.\n"
        )
        (folder / f"example_{index:05d}.md").write_text(text, encoding="utf-8")


def write_chatml(path: Path, rng: random.Random, count: int) -> None:
    path.parent.mkdir(parents=True)
    lines = []
    prompt = ""
    for index in range(count):
        if index % 20 != 19:  # every 20th record repeats the previous prompt
            task = f"{rng.choice(TASKS)} {rng.choice(SUBJECTS)}"
            prompt = f"Write BBj code to {task}, case {index}"
        answer = f"Here you go:\n```BBj\n{program(rng, index, 8)}```\nIt works."
        if index % 50 == 0:
            answer = answer.replace("\n", "\\n")
        record = {
            "messages": [
                {"role": "user", "content": prompt},
                {"role": "assistant", "content": answer},
            ],
            "generation": GENERATIONS[index % len(GENERATIONS)],
        }
        lines.append(json.dumps(record))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def write_sources(root: Path, rng: random.Random, count: int) -> None:
    for index in range(count):
        path = root / f"project{index % 25:02d}" / f"module{index:04d}.bbj"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(program(rng, index, rng.randint(20, 300)), encoding="utf-8")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=10_000)
    parser.add_argument("--files", type=int, default=1_000)
    parser.add_argument("--no-check", action="store_true", help="skip the checker")
    args = parser.parse_args()
    rng = random.Random(0)
    with tempfile.TemporaryDirectory(prefix="bbj-data-bench-") as scratch:
        work = Path(scratch)
        started = time.perf_counter()
        markdown = int(args.examples * MARKDOWN_SHARE)
        write_markdown(work / "md", rng, markdown)
        write_chatml(work / "chat" / "chat.jsonl", rng, args.examples - markdown)
        write_sources(work / "src", rng, args.files)
        tokenizer = build_tiny_model(work / "tiny").tokenizer_path
        print(
            f"inputs written in {time.perf_counter() - started:.1f} s: {markdown} Markdown "
            f"examples, {args.examples - markdown} ChatML records, {args.files} source files"
        )
        config = replace(
            DataConfig(),
            markdown=(work / "md",),
            chatml=(work / "chat",),
            sources=(work / "src",),
            out=work / "out",
            tokenizer=tokenizer,
            check_code=not args.no_check,
        )
        result = build_dataset(config)
        report = result.report
        print(
            f"build: {result.seconds:.1f} s -> chat {report['chat']['train']} train / "
            f"{report['chat']['val']} val, FIM {report['fim']['train']} / "
            f"{report['fim']['val']}, pretraining records "
            f"{report['cpt']['cpt train']['records']} / {report['cpt']['cpt val']['records']}"
        )
        for step in report["cleaning"]:
            print(f"  {step['step']}: {step['counts']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
