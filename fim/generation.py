"""Which generation of BBj a piece of code is written in, from textual signals.

Generations: ``character`` (terminal programs: ``PRINT @(``, ``'CS'`` mnemonics, line numbers),
``vpro5`` (Visual PRO/5 GUI: ``PRINT (sysgui)'WINDOW'(``, control mnemonics, ``CTRL(``),
``bbj-gui`` (the object API: ``BBjAPI().getSysGui()``, ``addWindow``, ``BBjWindow``), ``dwc``
(the Dynamic Web Client: the object API plus ``getWebManager()``, CSS styling), ``mixed``
(strong signals of two or more) and ``unknown``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

CHARACTER = "character"
VPRO5 = "vpro5"
BBJ_GUI = "bbj-gui"
DWC = "dwc"
MIXED = "mixed"
UNKNOWN = "unknown"

GENERATIONS: tuple[str, ...] = (CHARACTER, VPRO5, BBJ_GUI, DWC, MIXED, UNKNOWN)


@dataclass(frozen=True)
class Signal:
    """A textual sign of one generation; ``strong`` signs alone decide it."""

    name: str
    generation: str
    pattern: re.Pattern[str]
    strong: bool = True
    min_hits: int = 1


@dataclass(frozen=True)
class GenerationReport:
    """The detected generation and the names of the signals that decided it."""

    generation: str
    signals: tuple[str, ...] = ()
    involved: tuple[str, ...] = ()
    """For ``mixed``: the generations whose strong signals were found."""


def _signal(
    name: str, generation: str, pattern: str, *, strong: bool = True, min_hits: int = 1
) -> Signal:
    flags = re.IGNORECASE | re.MULTILINE
    return Signal(name, generation, re.compile(pattern, flags), strong, min_hits)


_TERMINAL_MNEMONICS = "CS|CE|CL|BR|ER|SB|SF|BG|EG|CF|LF|RB|GE|GS|VT|UC|LC|BO|EO|DN|UP|LD"
_GUI_MNEMONICS = (
    "WINDOW|BUTTON|EDIT|LISTBOX|LISTBUTTON|CHECKBOX|RADIOBUTTON|TEXT|GROUPBOX|MENU|"
    "TOOLBUTTON|HSCROLL|VSCROLL|TABCTRL|GRID|CHILD|DIALOG|INPUTE|INPUTN|CEDIT|CONTEXT|RESOURCE"
)
_BBJ_CONTROL_CLASSES = (
    "BBjSysGui|BBjWindow|BBjTopLevelWindow|BBjChildWindow|BBjButton|BBjEditBox|BBjListBox|"
    "BBjListButton|BBjStandardGrid|BBjGrid|BBjInputE|BBjInputN|BBjCEdit|BBjStaticText|BBjControl"
)

SIGNALS: tuple[Signal, ...] = (
    _signal("PRINT @(", CHARACTER, r"\b(?:print|input)\b[^\n]*?@\("),
    _signal("'CS' terminal mnemonics", CHARACTER, rf"'(?:{_TERMINAL_MNEMONICS})'(?!\s*\()"),
    _signal("line numbers", CHARACTER, r"^[ \t]*\d{1,5}[ \t]+[a-z]", strong=False, min_hits=2),
    _signal("'WINDOW'( GUI mnemonics", VPRO5, rf"'(?:{_GUI_MNEMONICS})'\s*\("),
    _signal("CTRL(", VPRO5, r"\bctrl\s*\("),
    _signal("SENDMSG(", VPRO5, r"\bsendmsg\s*\("),
    _signal('OPEN "X0" sysgui', VPRO5, r"\bopen\s*\([^)\n]*\)\s*\"X0\""),
    _signal("BBjAPI().getSysGui()", BBJ_GUI, r"\.\s*getsysgui\s*\("),
    _signal("addWindow(", BBJ_GUI, r"\.\s*addwindow\s*\("),
    _signal("BBjWindow/BBj control classes", BBJ_GUI, rf"\b(?:{_BBJ_CONTROL_CLASSES})\b"),
    _signal("setCallback(", BBJ_GUI, r"\.\s*setcallback\s*\("),
    _signal("process_events", BBJ_GUI, r"\bprocess_events\b", strong=False),
    _signal("BBjAPI()", BBJ_GUI, r"\bbbjapi\s*\(\s*\)", strong=False),
    _signal("getWebManager()", DWC, r"\bgetwebmanager\s*\("),
    _signal("BBjWebManager", DWC, r"\bbbjwebmanager\b"),
    _signal("getDWC", DWC, r"\bgetdwc\w*\s*\("),
    _signal(
        "setStyle/addStyle CSS calls",
        DWC,
        r"\.\s*(?:setstyle|addstyle|removestyle|addclass|"
        r"removeclass|setpanelstyle)\s*\(",
    ),
    _signal("injectStyle/injectScript", DWC, r"\.\s*inject(?:style|script|url|css)\w*\s*\("),
    _signal("dwc- CSS names", DWC, r"(?<![\w-])--?dwc-[\w-]+"),
    _signal("setAttribute(", DWC, r"\.\s*setattribute\s*\(", strong=False),
)

# DWC programs are built on the BBj GUI object API, so its signals do not make them "mixed".
_SUBSUMED_BY: dict[str, str] = {BBJ_GUI: DWC}


def detect_generation(code: str) -> GenerationReport:
    """Decide the generation of ``code`` from :data:`SIGNALS`."""
    hits = tuple(signal for signal in SIGNALS if _matches(signal, code))
    strong = _generations(s for s in hits if s.strong)
    if len(strong) >= 2:
        names = tuple(s.name for s in hits if s.strong)
        return GenerationReport(MIXED, names, tuple(g for g in GENERATIONS if g in strong))
    chosen = next(iter(strong), None) or _weak_choice(hits)
    if chosen is None:
        return GenerationReport(UNKNOWN)
    supporting = {chosen} | {g for g, parent in _SUBSUMED_BY.items() if parent == chosen}
    return GenerationReport(chosen, tuple(s.name for s in hits if s.generation in supporting))


def describe_generation(report: GenerationReport) -> str:
    """One sentence about the user's BBj generation, for a chat system prompt."""
    if report.generation == MIXED:
        kinds = " and ".join(_LABELS[g] for g in report.involved) or "several generations"
        return (
            f"The user's code mixes BBj generations ({kinds}); match the style of the code "
            "being edited and do not convert between generations unless asked."
        )
    return _DESCRIPTIONS[report.generation]


def _matches(signal: Signal, code: str) -> bool:
    if signal.min_hits == 1:
        return signal.pattern.search(code) is not None
    for found, _ in enumerate(signal.pattern.finditer(code), start=1):
        if found >= signal.min_hits:
            return True
    return False


def _generations(signals: Iterable[Signal]) -> set[str]:
    found = {s.generation for s in signals}
    return {g for g in found if _SUBSUMED_BY.get(g) not in found}


def _weak_choice(hits: tuple[Signal, ...]) -> str | None:
    weak = _generations(hits)
    if len(weak) != 1:
        return None
    return next(iter(weak))


_LABELS: dict[str, str] = {
    CHARACTER: "character-mode",
    VPRO5: "Visual PRO/5 GUI",
    BBJ_GUI: "BBj object GUI",
    DWC: "DWC web",
}

_DESCRIPTIONS: dict[str, str] = {
    CHARACTER: (
        "The user's code is character-mode BBj (terminal I/O with PRINT @( positioning and "
        "mnemonics such as 'CS'), so answer in that style unless asked to modernise it."
    ),
    VPRO5: (
        "The user's code is Visual PRO/5-style GUI code (PRINT (sysgui) with mnemonics such as "
        "'WINDOW'( and the CTRL() function), so keep that style unless asked to migrate it to "
        "the BBj object API."
    ),
    BBJ_GUI: (
        "The user's code uses the BBj object-oriented GUI API (BBjAPI().getSysGui(), addWindow, "
        "BBjWindow controls with setCallback and process_events), so answer with that API."
    ),
    DWC: (
        "The user's code targets the BBj Dynamic Web Client (DWC): BBj GUI objects styled for "
        "the browser with getWebManager(), setStyle/addStyle and CSS classes, so answer with "
        "DWC-compatible code."
    ),
    UNKNOWN: (
        "The BBj generation of the user's code is not clear, so prefer modern object-oriented "
        "BBj unless the code being edited suggests another style."
    ),
}
