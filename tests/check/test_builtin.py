"""The built-in checker: BBj forms it must accept, errors it must name, inputs it must survive."""

from __future__ import annotations

import json
import random
import time

import pytest

from daemon.check import BuiltinChecker, decode_source
from daemon.check._program import MAX_DIAGNOSTICS
from tests.check.helpers import corpus_files

CHECKER = BuiltinChecker()

VALID = {
    "class with fields and methods": """
class public Account
    field public BBjString Owner$
    field private BBjNumber Balance = 0
    field public static BBjInt Count% = 0
    method public Account(BBjString owner$)
        #Owner$ = owner$
    methodend
    method public BBjNumber getBalance()
        methodret #Balance
    methodend
classend
""",
    "interface methods have no methodend": """
interface public Named; rem a comment
    method public BBjString name()
interfaceend
""",
    "abstract method may omit methodend": """
class public abstract Base
    method public abstract void run()
    method public void helper()
    methodend
classend
""",
    "single-line if forms": """
if x then y = 1
IF A=1 THEN GOTO 100 ELSE PRINT "no"
IF flag THEN IF other THEN count = 4 FI FI
if flag then return 2 fi; print "after"
loopstart: IF flag THEN count = 1; GOTO loopstart
""",
    "then-less if as a block and as one line": """
if(section! <> null() and section!.length())
    wrapped! = "x"
fi
if isReady!
    go = 1
else
    go = 0
fi
if(debug! AND #isWeb()) bundle! = bundle! + ";"
IF A=1 PRINT "one"
if n>=0 ?sqr(n)
""",
    "then followed by a comment may open a block or not": """
if count=1 then rem the block form
    x = 1
fi
if count=2 then rem nothing follows
""",
    "else if chains closed once or per if": """
if a then
    x = 1
else if b then
    x = 2
else
    x = 3
fi
if a then
    x = 1
else if b then
    x = 2
fi
fi
""",
    "nested then at the end of a one-line if opens blocks": """
IF A THEN IF B THEN
    x = 1
FI
FI
""",
    "keywords used as names and labels": """
next[1] = 5
next.x = 2
NEXT=1
PRINT NEXT
CLASS=1
DEFAULT=1
next:
x=1
default:
goto next
""",
    "continuation lines": """
write (1,key=k$)a$,b$,
:   c$,d$
IF COUNT=1 THEN
: REM comment after a THEN-ended continuation
""",
    "comments with quotes and apostrophes": """
REM it's a "comment with an odd quote
print "x"; rem don't stop here (
0010 REMARK old style comment's fine
""",
    "strings, hex strings and mnemonics": '''
print 'CS','BR',@(0,0),"He said ""hi""",'ER'
x$ = $0D0A$ + $$ + "a:b;c"
print (1)'WINDOW'(200,200,500,200,"Title",$00010003$)
dim rec$:"NAME:C(20),AGE:N(3)"
input (0,err=*same)@(10,10),"Name: ",'CL',X$:(""=fin,LEN=1,30)
print #pay():"($###,###.00)"
''',
    "use statements and objects": """
use java.util.HashMap
use ::../lib/util.bbj::Helper
use ::C:\\bbj apps\\x.bbj::Thing
declare auto BBjTopLevelWindow wnd!
wnd!        .setCallback(BBjAPI.ON_CLOSE,"byebye")
next! = it!.next()
x!.remove(key!)
remove (1,key=k$,dom=*next)
TABLE ff00aa11
""",
    "switch forms": """
SWITCH t$; CASE 1; PRINT "1"; BREAK; CASE DEFAULT; PRINT "d"; SWEND
switch x
    case 1
    case 2
        print "low"
    break
    lbl: case 3
    break
    default
        print "other"
swend
""",
    "loops on one line and conditional next": """
FOR I=1 TO 10; PRINT I; NEXT I
FOR I=1 TO 10; IF A(I) THEN PRINT I; NEXT I
for j=1 to 5
    if j=3 then next j
    print j
next j
repeat; x=x+1; until x>5
while 0; wend
""",
    "def fn single and multi line": """
DEF FNA(X)=X*2
DEF FNX$(A$,B)=A$(1,B); rem comment
def fnTotal(a,b)
    if a = 0 then return
    return a+b
fnend
""",
    "legacy loop with a second exit reached by goto": """
0100 FOR I=1 TO N
0110 IF A(I)=0 THEN GOTO 0140
0120 PRINT A(I)
0130 NEXT I
0135 GOTO 0200
0140 PRINT "zero"
0150 NEXT I
0200 END
""",
    "trailing blanks after a block opener": "if(ready!) \n  x=1\nfi\nif y then   \n  z=1\nfi\t\n",
    "line numbers on their own lines": """
0010
CLASS PUBLIC Counter
0020
METHOD PUBLIC VOID bump()
0030
METHODEND
0040
CLASSEND
""",
}

INVALID = {
    "stray methodend": (
        "class public A\nx=1\nmethodend\nclassend\n",
        3,
        "`methodend` without `method`",
    ),
    "unterminated string": ('x=1\nprint "abc\n', 2, 'unterminated string: expected a closing `"`'),
    "unterminated hex string": (
        "x$=$0D0A\n",
        1,
        "unterminated hex string: expected a closing `$`",
    ),
    "unterminated mnemonic": (
        "print 'CS,x\n",
        1,
        "unterminated mnemonic: expected a closing `'`",
    ),
    "for never closed": (
        "for i=1 to 3\n  print i\n",
        1,
        "`for` is never closed: expected `next` before the end of the program",
    ),
    "case outside switch": ("case 1\n", 1, "`case` outside a `switch`"),
    "else outside if": ("x=1\nelse\n", 2, "`else` outside an `if` block"),
    "method outside class": (
        "method public void x()\nmethodend\n",
        1,
        "`method` outside a class: expected `class` before it",
    ),
    "closing paren without opener": ("x = a)\n", 1, "`)` has no matching `(`"),
    "mismatched bracket": ("x = a(1]\n", 1, "`]` does not match `(`: expected `)`"),
    "unclosed paren": ("x = foo(1\n", 1, "expected `)` to close `(`, found the end of the line"),
    "next of another variable": (
        "for i=1 to 2\nnext i\nnext j\n",
        3,
        "`next j` without a matching `for`",
    ),
    "method left open before the next": (
        "class public A\n  method public void a()\n  x=1\n  method public void b()\n"
        "  methodend\nclassend\n",
        2,
        "`method` is never closed: expected `methodend` before `method` on line 4",
    ),
    "class left open before the next": (
        "class public A\nclass public B\nclassend\n",
        1,
        "`class` is never closed: expected `classend` before `class` on line 2",
    ),
    "block if never closed": (
        "if x then\n  y=1\n",
        1,
        "`if` is never closed: expected `fi` before the end of the program",
    ),
    "stray closer inside another block": (
        "while x\n    if y then\n        wend\n    fi\nwend\n",
        3,
        "`wend` does not close `if` from line 2: expected `fi`",
    ),
    "inner fi missing is blamed on the inner if": (
        "if a then\n    if b then\n        x=1\nfi\n",
        2,
        "`if` is never closed: expected `fi` before `fi` on line 4",
    ),
    "fnend without def": ("x=1\nfnend\n", 2, "`fnend` without `def`"),
}


@pytest.mark.parametrize("code", VALID.values(), ids=VALID.keys())
def test_real_bbj_forms_pass(code: str) -> None:
    result = CHECKER.check_text(code)
    assert [d.message for d in result.diagnostics] == []
    assert result.ok


@pytest.mark.parametrize(("code", "line", "message"), INVALID.values(), ids=INVALID.keys())
def test_errors_are_named_with_their_line(code: str, line: int, message: str) -> None:
    result = CHECKER.check_text(code)
    assert not result.ok
    assert (line, message) in [(d.line, d.message) for d in result.diagnostics]


def test_diagnostics_carry_the_source_text_and_basic_line() -> None:
    result = CHECKER.check_text('0010 PRINT "A"\n0020 PRINT "B\n')
    (diagnostic,) = result.diagnostics
    assert diagnostic.source_line == '0020 PRINT "B'
    assert diagnostic.severity == "error"
    assert diagnostic.basic_line == 20
    assert (diagnostic.line, diagnostic.col) == (2, 12)
    assert result.checker == "builtin"
    wire = json.loads(json.dumps(result.to_dict()))["diagnostics"][0]
    assert (wire["line"], wire["col"]) == (2, 12)


def test_keywords_are_case_insensitive() -> None:
    assert CHECKER.check_text("While X\nWEND\nFor i=1 To 2\nNeXt i\n").ok
    assert not CHECKER.check_text("WHILE X\n").ok


# ------------------------------------------------------------------------ robustness
@pytest.mark.parametrize(
    "code",
    ["", "   \n\t\n", "rem only a comment\n", 'x$="a\x00b"\n'],
    ids=["empty", "blank", "comment", "nul-in-string"],
)
def test_odd_but_harmless_input_passes(code: str) -> None:
    assert CHECKER.check_text(code).ok


@pytest.mark.parametrize("code", ["\x00", "\ud800 = 1\n", "x = \x00\n"], ids=["nul", "sur", "op"])
def test_a_stray_character_is_an_error_not_a_crash(code: str) -> None:
    result = CHECKER.check_text(code)
    assert result.tool_error is None
    assert [d.line for d in result.diagnostics] == [1]


def test_binary_junk_is_not_source() -> None:
    junk = random.Random(7).randbytes(200_000).decode("latin-1")
    result = CHECKER.check_text(junk)
    assert result.tool_error is None
    assert result.ok
    assert result.diagnostics == ()
    assert result.skipped == "not BBj source, not checked: it looks like binary data"


def test_protected_program_is_not_source() -> None:
    result = CHECKER.check_text("<<bbj>>\x07\x81'\"Zq\n\x00\x00junk that would not parse\n")
    assert result.ok
    assert result.diagnostics == ()
    assert result.skipped is not None
    assert result.skipped.startswith("not BBj source, not checked: a protected BBj program")
    assert result.to_dict()["skipped"] == result.skipped


def test_junk_that_passes_the_binary_sniff_is_summarised() -> None:
    junk = "".join(random.Random(7).choice("()[]\"'$ ;:+-*/=abc\n") for _ in range(200_000))
    result = CHECKER.check_text(junk)
    assert result.tool_error is None
    assert not result.ok
    assert len(result.diagnostics) <= MAX_DIAGNOSTICS + 1


def test_too_many_problems_are_summarised() -> None:
    result = CHECKER.check_text('print "x\n' * (MAX_DIAGNOSTICS + 50))
    assert len(result.diagnostics) == MAX_DIAGNOSTICS + 1
    assert result.diagnostics[-1].message == "50 more problems not shown"


def test_line_endings_do_not_change_the_verdict() -> None:
    code = "if x then\n  y=1\nfi\nwhile z\n"
    expected = [(d.line, d.message) for d in CHECKER.check_text(code).diagnostics]
    for variant in (
        code.replace("\n", "\r\n"),
        code.replace("\n", "\r"),
        "if x then\r\n  y=1\rfi\nwhile z\r\n",
    ):
        assert [(d.line, d.message) for d in CHECKER.check_text(variant).diagnostics] == expected


def test_non_utf8_bytes_are_decoded_with_a_fallback() -> None:
    assert decode_source('print "café"\n'.encode("cp1252")) == 'print "café"\n'
    assert decode_source(b'print "\x81\x8d"\n') == 'print "\x81\x8d"\n'
    assert decode_source("\ufeffx=1\n".encode()) == "x=1\n"
    assert CHECKER.check_text(b'print "caf\xe9"\n').ok  # type: ignore[arg-type]


def test_deep_nesting_does_not_recurse() -> None:
    code = "if x then\n" * 20_000 + "fi\n" * 19_999
    result = CHECKER.check_text(code)
    assert [d.describe() for d in result.diagnostics] == [
        "line 1, col 1: `if` is never closed: expected `fi` before the end of the program"
    ]


def test_one_very_long_line() -> None:
    assert CHECKER.check_text("x$ = " + "+".join(['"ab"'] * 200_000) + "\n").ok


def test_five_megabyte_file_is_checked(capsys: pytest.CaptureFixture[str]) -> None:
    unit = "\n".join(p.read_text(encoding="utf-8") for p in corpus_files()) + "\n"
    code = unit * (5_000_000 // len(unit) + 1)
    started = time.perf_counter()
    result = CHECKER.check_text(code)
    elapsed = time.perf_counter() - started
    lines = code.count("\n")
    assert result.ok, result.diagnostics[:3]
    with capsys.disabled():
        print(
            f"\nbuilt-in checker: {lines} lines, {len(code) / 1e6:.1f} MB in {elapsed:.2f} s "
            f"= {lines / elapsed:,.0f} lines/s"
        )
