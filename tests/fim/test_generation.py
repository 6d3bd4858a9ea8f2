"""Generation detection from BBj source signals."""

from __future__ import annotations

import pytest

from fim.generation import (
    BBJ_GUI,
    CHARACTER,
    DWC,
    MIXED,
    UNKNOWN,
    VPRO5,
    GenerationReport,
    describe_generation,
    detect_generation,
)

CHARACTER_CODE = """\
0010 PRINT 'CS',@(0,0),"Customer Maintenance"
0020 INPUT @(0,2),"Customer ID: ",CUST_ID$
0030 IF CUST_ID$="" THEN GOTO 9999
9999 END
"""

VPRO5_CODE = """\
0010 SYSGUI=UNT
0020 OPEN (SYSGUI)"X0"
0030 PRINT (SYSGUI)'WINDOW'(100,100,400,300,"Orders",$00010003$)
0040 PRINT (SYSGUI)'BUTTON'(1,10,10,80,25,"OK",$$)
0050 LET NAME$=CTRL(SYSGUI,101,1)
"""

BBJ_GUI_CODE = """\
sysgui! = BBjAPI().getSysGui()
wnd! = sysgui!.addWindow(100, 100, 400, 300, "Orders")
btn! = wnd!.addButton(1, 10, 10, 80, 25, "OK")
btn!.setCallback(btn!.ON_BUTTON_PUSH, "on_ok")
process_events
"""

DWC_CODE = """\
sysgui! = BBjAPI().getSysGui()
wnd! = sysgui!.addWindow(100, 100, 400, 300, "Orders")
web! = BBjAPI().getWebManager()
btn! = wnd!.addButton(1, 10, 10, 80, 25, "OK")
btn!.addStyle("dwc-button--primary")
btn!.setStyle("margin", "8px")
process_events
"""


@pytest.mark.parametrize(
    ("code", "generation", "signal"),
    [
        (CHARACTER_CODE, CHARACTER, "PRINT @("),
        (VPRO5_CODE, VPRO5, "'WINDOW'( GUI mnemonics"),
        (BBJ_GUI_CODE, BBJ_GUI, "BBjAPI().getSysGui()"),
        (DWC_CODE, DWC, "getWebManager()"),
    ],
)
def test_each_generation(code: str, generation: str, signal: str) -> None:
    report = detect_generation(code)
    assert report.generation == generation
    assert signal in report.signals


def test_vpro5_line_numbers_do_not_make_it_mixed() -> None:
    report = detect_generation(VPRO5_CODE)
    assert report.generation == VPRO5
    assert "line numbers" not in report.signals


def test_dwc_code_shows_its_gui_signals_too_but_is_not_mixed() -> None:
    report = detect_generation(DWC_CODE)
    assert report.generation == DWC
    assert "addWindow(" in report.signals


def test_two_generations_are_mixed() -> None:
    report = detect_generation(CHARACTER_CODE + BBJ_GUI_CODE)
    assert report.generation == MIXED
    assert report.involved == (CHARACTER, BBJ_GUI)
    assert {"PRINT @(", "addWindow("} <= set(report.signals)


def test_weak_signals_alone() -> None:
    assert detect_generation("0010 LET A=1\n0020 LET B=2\n").generation == CHARACTER
    assert detect_generation("0010 LET A=1\n").generation == UNKNOWN
    weak_of_two = detect_generation("0010 LET A=1\n0020 X!=BBjAPI()\n")
    assert weak_of_two.generation == UNKNOWN


def test_plain_code_is_unknown() -> None:
    report = detect_generation("x = 1\nPRINT x\n")
    assert report == GenerationReport(UNKNOWN)


def test_case_does_not_matter() -> None:
    assert detect_generation("SYSGUI! = bbjapi().GETSYSGUI()").generation == BBJ_GUI


@pytest.mark.parametrize(
    ("code", "words"),
    [
        (CHARACTER_CODE, "character-mode"),
        (VPRO5_CODE, "Visual PRO/5"),
        (BBJ_GUI_CODE, "object-oriented GUI API"),
        (DWC_CODE, "Dynamic Web Client"),
        ("x = 1\n", "not clear"),
        (CHARACTER_CODE + DWC_CODE, "character-mode and DWC web"),
    ],
)
def test_description_is_one_sentence_about_the_generation(code: str, words: str) -> None:
    sentence = describe_generation(detect_generation(code))
    assert words in sentence
    assert sentence.endswith(".")
    assert sentence.count(". ") == 0
