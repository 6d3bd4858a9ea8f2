"""Real BBj code from ../shared/corpus (skipped when absent): no false alarms.

Every file passes, is reported as not source (a protected program), or is one of the files
reviewed as genuinely broken in ``real_corpus.VERDICTS``, flagged on the line the review names.
"""

from __future__ import annotations

import pytest

from daemon.check import BuiltinChecker
from tests.check.real_corpus import VERDICTS, corpus_files

FILES = corpus_files()
pytestmark = pytest.mark.skipif(not FILES, reason="the shared corpus (../shared) is absent")


def test_no_file_is_flagged_without_a_reviewed_reason() -> None:
    checker = BuiltinChecker()
    flagged = {path for path, code in FILES.items() if not checker.check_text(code).ok}
    assert flagged <= set(VERDICTS)
    assert all(verdict == "file genuinely broken" for verdict, _ in VERDICTS.values())


def test_the_reviewed_files_are_still_broken() -> None:
    checker = BuiltinChecker()
    for path in VERDICTS:
        assert not checker.check_text(FILES[path]).ok, path


def test_the_protected_program_is_not_source() -> None:
    checker = BuiltinChecker()
    skipped = [path for path, code in FILES.items() if checker.check_text(code).skipped]
    assert skipped == ["BBj-Plugins+BBjDocViewer/util/EnableDebugger.bbj"]
