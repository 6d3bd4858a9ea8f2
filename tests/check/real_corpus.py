"""The shared corpus of real BBj code (``../shared/corpus/bbj``, beside the repository) and our
verdict on every file the built-in checker flags. Used by the corpus test and the benchmark."""

from __future__ import annotations

from pathlib import Path

from daemon.check import decode_source

CORPUS = Path(__file__).resolve().parents[3] / "shared" / "corpus" / "bbj"

VERDICTS: dict[str, tuple[str, str]] = {
    "BBj-Plugins+BBjNotificationManager/src/Notification.bbj": (
        "file genuinely broken",
        "line 153 is a second `endif` after the `if title! <> null() … else … endif` above it "
        "has already closed: no `if` is open there",
    ),
    "BBj-Plugins+DWCJ/cfg/DwcjConfigModel.bbj": (
        "file genuinely broken",
        "in getClassname the inner `while it2!.hasNext()` (line 140) has no `wend`: the two "
        "`fi` close the two ifs and the only `wend` belongs to the outer `while`",
    ),
    "BBj-Plugins+WebKit/framework/Router/RouterProtocol.bbj": (
        "file genuinely broken",
        "`methodend` inside an `interface`: interface methods are declarations without a body "
        "(the language server's grammar allows only the method header there)",
    ),
    "BBj-Plugins+WebKit/widgets/Drawer/components/DrawerMenuTile/DrawerMenuTile.bbj": (
        "file genuinely broken",
        "line 44 is an `endif` in redraw() with no `if` open in that method (the body was "
        "un-indented from an if that no longer exists)",
    ),
}
"""The reviewed flagged files: path in the corpus -> (verdict, reason)."""


def corpus_files(corpus: Path = CORPUS) -> dict[str, str]:
    """Path in the corpus -> decoded source, for every file (empty when it is absent)."""
    if not corpus.is_dir():
        return {}
    return {
        path.relative_to(corpus).as_posix(): decode_source(path.read_bytes())
        for path in sorted(corpus.rglob("*"))
        if path.is_file()
    }
