"""Exact and near-duplicate prompts: one conversation per prompt, the one with the best answer.

Exact duplicates share the normalised prompt text. Near duplicates have a word-trigram Jaccard
similarity of at least the threshold. Candidate pairs come from MinHash banding (numpy, fixed
seeds, so every build finds the same pairs: 128 permutations in 16 bands of 8 catch a pair at
0.85 similarity with 99 % probability) and every candidate is verified exactly, so nothing is
merged below the threshold. Two prompts that differ in a number or an identifier (a word with
a digit, a BBj ``$ % !`` suffix, an ``_`` or ``.`` inside, or anything quoted) ask for
different things however similar the rest is ("open channel 1" / "open channel 2"): they are
never merged, and the report counts such pairs.
"""

from __future__ import annotations

import re
import zlib
from collections import defaultdict
from itertools import combinations

from fim.ring import jaccard
from trainer.data.fences import bbj_blocks, has_code_block, prose_of
from trainer.data.keys import normalise_text, prompt_key, words
from trainer.data.records import Example, StepReport

_QUOTED = re.compile(r"`[^`]+`|\"[^\"]*\"|'[^'\n]*'")
PERMUTATIONS = 128
ROWS_PER_BAND = 8
DETAIL_LIMIT = 100


def answer_quality(example: Example) -> tuple[int, bool, int, int]:
    """Sort key, higher is better: passes the checker, has a code block, fuller explanation,
    then the earlier input wins."""
    answer = example.joined("assistant")
    check_rank = {True: 2, None: 1, False: 0}[example.check_ok]
    return check_rank, has_code_block(answer), len(prose_of(answer).strip()), -example.order


def answers_agree(first: Example, second: Example) -> bool:
    """Same code (normalised) when either answer has code, else the same normalised text."""
    a, b = first.joined("assistant"), second.joined("assistant")
    code_a, code_b = bbj_blocks(a), bbj_blocks(b)
    if code_a or code_b:
        return [normalise_text(c) for c in code_a] == [normalise_text(c) for c in code_b]
    return normalise_text(a) == normalise_text(b)


def deduplicate(examples: list[Example], threshold: float) -> tuple[list[Example], StepReport]:
    report = StepReport("duplicates")
    keys = [prompt_key(e) for e in examples]
    by_key: dict[str, list[int]] = defaultdict(list)
    for index, key in enumerate(keys):
        by_key[key].append(index)
    distinct = list(by_key)
    clusters = (
        _near_duplicate_clusters(distinct, threshold, report)
        if threshold < 1.0
        else [[i] for i in range(len(distinct))]
    )
    keep: list[int] = []
    for cluster in clusters:
        members = [index for key_index in cluster for index in by_key[distinct[key_index]]]
        keep.append(_resolve(members, examples, keys, report))
    return [examples[i] for i in sorted(keep)], report


def _resolve(
    members: list[int], examples: list[Example], keys: list[str], report: StepReport
) -> int:
    winner = max(members, key=lambda i: answer_quality(examples[i]))
    for index in sorted(members):
        if index == winner:
            continue
        kind = "exact" if keys[index] == keys[winner] else "near"
        report.add(f"{kind} duplicates removed")
        if answers_agree(examples[index], examples[winner]):
            continue
        report.add("conflicting answers")
        if len(report.details) < DETAIL_LIMIT:
            report.details.append(
                {
                    "match": kind,
                    "prompt": examples[winner].first("user")[:200],
                    "kept": examples[winner].source,
                    "dropped": examples[index].source,
                }
            )
    return winner


def shingles(text: str) -> set[int]:
    """CRC32 hashes of the word trigrams of ``text`` (the whole text when it is shorter)."""
    tokens = words(text)
    grams = [" ".join(tokens[i : i + 3]) for i in range(max(1, len(tokens) - 2))]
    return {zlib.crc32(g.encode("utf-8")) for g in grams}


def specifics(text: str) -> frozenset[str]:
    """The numbers and identifiers of a prompt: what makes two similar prompts different tasks."""
    found = {quoted for quoted in _QUOTED.findall(text)}
    for word in words(text):
        if any(c.isdigit() for c in word) or word[-1] in "$%!" or "_" in word or "." in word:
            found.add(word)
    return frozenset(found)


def _near_duplicate_clusters(
    texts: list[str], threshold: float, report: StepReport
) -> list[list[int]]:
    sets = [shingles(t) for t in texts]
    details = [specifics(t) for t in texts]
    parent = list(range(len(texts)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    # Components do not depend on the order edges are seen in, so the set needs no sorting.
    # A cluster never joins prompts whose numbers or identifiers differ, even through a third.
    members: dict[int, frozenset[str]] = dict(enumerate(details))
    for a, b in sorted(_candidate_pairs(sets)):
        if find(a) == find(b) or jaccard(sets[a], sets[b]) < threshold:
            continue
        if members[find(a)] != members[find(b)]:
            report.add("near duplicates kept (numbers or identifiers differ)")
            if len(report.details) < DETAIL_LIMIT:
                report.details.append(
                    {"match": "kept apart", "a": texts[a][:120], "b": texts[b][:120]}
                )
            continue
        root, other = min(find(a), find(b)), max(find(a), find(b))
        parent[other] = root
    clusters: dict[int, list[int]] = defaultdict(list)
    for index in range(len(texts)):
        clusters[find(index)].append(index)
    return list(clusters.values())


def _candidate_pairs(sets: list[set[int]]) -> set[tuple[int, int]]:
    import numpy as np

    rng = np.random.default_rng(20240611)
    mul = rng.integers(1, 2**63, PERMUTATIONS, dtype=np.uint64) | np.uint64(1)
    add = rng.integers(0, 2**63, PERMUTATIONS, dtype=np.uint64)
    buckets: dict[bytes, list[int]] = defaultdict(list)
    for index, items in enumerate(sets):
        values = np.fromiter(items, dtype=np.uint64, count=len(items))[:, None]
        signature = ((values * mul + add) >> np.uint64(32)).min(axis=0)
        for band in range(0, PERMUTATIONS, ROWS_PER_BAND):
            key = band.to_bytes(2, "big") + signature[band : band + ROWS_PER_BAND].tobytes()
            buckets[key].append(index)
    pairs: set[tuple[int, int]] = set()
    for members in buckets.values():
        pairs.update(combinations(members, 2))
    return pairs
