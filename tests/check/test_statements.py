"""The statement and expression parser: BBj it must accept, errors it must name (line, column
and what was expected). Every fixture here is written for this test."""

from __future__ import annotations

import pytest

from daemon.check import BuiltinChecker

CHECKER = BuiltinChecker()

VALID = {
    "assignments": """
x = 1
let a$ = "b"
a = 1, b$ = "x"
LET n = 2, m = 3
a$(1,3) = "abc"
arr[1,2] = 5
x% = 7
x! = null()
rec.name$ = "Smith"
""",
    "expressions with every operator": '''
x = -a ^ 2 * (b + c) / d - e
ok = a <> b and c <= d or not(e) and f >= g and h < i and j > k and l >< m
bits$ = and(a$, b$) + or(c$, d$)
text$ = str(n:"##0.00") + a$(1,3) + b$(2) + fnTotal$(1, 2)
quote$ = "he said ""hi""" + $0D0A$ + $$
y = .5 + 1.25 + 2e3 + --x + !flag
''',
    "channel verbs with options": """
open (1,mode="O_CREATE",err=*next)"orders.dat"
read record (1,key=k$,dom=100,end=*break)r$
print (1)'CS',@(0,0),"Total: ",total:"###,##0.00",
write (1,key=k$)a$,b$
extract (1,key=k$)iol=1000
find (1,key=k$,err=*next)*,name$
remove (1,key=k$,dom=*next)
close (1,err=*next)
input (0,err=*same)@(10,10),"Name: ",'CL',x$:(""=fin,len=1,30)
? "quick print", x
print
sqlprep (2)"select * from t"
sqlexec (2)
""",
    "list and label verbs": """
call "pgm.bbj::label",err=*next,a$,b
run "menu.bbj",err=*next
enter a$,b,err=*next
dim a$(10,"*"),b[5,3],rec$:"NAME:C(20),AGE:N(3)"
throw "bad input", 300
wait .5
process_events,err=*same
seterr 9000
setesc handler
on choice goto first, second, 300
gosub sub_1
goto 100
exitto done
release
escape
methodret
table ff00aa11
rename "a.txt" to "b.txt"
""",
    "object system": """
use ::lib/util.bbj::Helper
use java.util.HashMap
use java.util.Map$Entry
class public Account extends Base implements Named, Serializable
    field public static BBjNumber Count = 0
    field private BBjString[] Names!
    method public Account(BBjString owner$)
        #Owner$ = owner$
        #super!.init()
    methodend
    method public static BBjString[] list(BBjNumber n, java.util.List items!)
        declare auto BBjVector v!
        v! = new BBjVector()
        m! = new java.util.HashMap()
        arr! = new BBjString[5]
        s! = cast(BBjString, items!.get(0))
        h! = ::lib/util.bbj::Helper.create()
        BBjAPI().getSysGui().getWindow(0).setText("x")
        new Thread(r!).start()
        wnd!.getControl(1)
:           .setText("continued")
        methodret v!
    methodend
classend
interface public Named
    method public BBjString name()
interfaceend
""",
    "line numbers, labels and comments": """
0010 REM an old program
0020 LET X=1; REM trailing
start: x = 1
rem /** doc comment
rem  */
REMARK old-style comment
x = 2; rem don't stop at quotes "or (brackets
lbl:
""",
    "strings and argument lists continued on ':' lines": """
style! = "
: body { margin: 0 }
: h3 { color: red }
:"
call "pgm",
:   a$,
:   b$
""",
    "one-line if forms": """
if x then y = 1
IF A=1 THEN GOTO 100 ELSE PRINT "no"
IF X$="YTD" THEN PRINT "TRUE"ELSE PRINT "FALSE"
IF A THEN IF B THEN PRINT "YES" ELSE PRINT "MAYBE" ELSE PRINT "NO"
if flag then return 2 fi; print "after"
IF A=1 PRINT "one"
if (x) y = 1
if n >= 0 ?sqr(n)
IF A THEN 100 ELSE 200
""",
    "keywords used as names": """
next = 1
print next
next! = it!.next()
IF NEW THEN GOTO 100
to = 3
x! = list!.remove(0)
""",
}

INVALID = {
    "missing operand": ("x = 1 +\n", 1, 8, "expected an expression after `+`"),
    "misspelled verb": (
        'prnt "hello"\n',
        1,
        1,
        "`prnt` is not a BBj verb: expected a statement (`print`?)",
    ),
    "bare unknown word": (
        "retrun\n",
        1,
        1,
        "`retrun` is not a BBj verb: expected a statement (`return`?)",
    ),
    "juxtaposed print items": ('print "a" "b"\n', 1, 11, 'expected `,` after `"a"`, found `"b"`'),
    "keyword as operand": (
        "if x = then print 1\n",
        1,
        8,
        "expected an expression after `=`, found `then`",
    ),
    "juxtaposed operands": (
        "x = a b\n",
        1,
        7,
        "expected an operator, `;` or the end of the line after `a`, found `b`",
    ),
    "for without its limit": ("for i = 1 to\nnext i\n", 1, 13, "expected an expression after `to`"),
    "for without to": (
        "for i = 1 10\nnext i\n",
        1,
        11,
        "expected `to` in the `for` statement, found `10`",
    ),
    "arguments without a comma": (
        "x = foo(1 2)\n",
        1,
        11,
        "expected `,` or `)` after the argument, found `2`",
    ),
    "unclosed parenthesis": (
        "x = (a + b\n",
        1,
        11,
        "expected `)` to close `(`, found the end of the line",
    ),
    "close without its channel": ("close to (1)\n", 1, 7, "expected `(` after `close`, found `to`"),
    "goto without a label": (
        "goto\n",
        1,
        5,
        "expected a label or line number after `goto`, found the end of the line",
    ),
    "on without goto": ("on x print 1\n", 1, 6, "expected `goto` or `gosub`, found `print`"),
    "new without arguments": (
        "x! = new Foo\n",
        1,
        13,
        "expected `(` after the class name, found the end of the line",
    ),
    "parameter without a name": (
        "class public A\nmethod public void f(BBjString)\nmethodend\nclassend\n",
        2,
        31,
        "expected a parameter name after `BBjString`, found `)`",
    ),
    "declare without a name": (
        "declare BBjString\n",
        1,
        18,
        "expected a variable name after `BBjString`, found the end of the line",
    ),
    "member name missing": (
        "x = y!.\n",
        1,
        8,
        "expected a member name after `.`, found the end of the line",
    ),
    "field access is not a statement": (
        "wnd!.setText\n",
        1,
        13,
        "expected `=` or a method call after `setText`, found the end of the line",
    ),
    "variable alone": ("x$\n", 1, 3, "expected `=` after `x$`, found the end of the line"),
    "argument after a bare verb": (
        "while y\nwend x\n",
        2,
        6,
        "expected `;` or the end of the line after `wend`, found `x`",
    ),
    "unterminated mnemonic": ("x$ = 'CS\n", 1, 6, "unterminated mnemonic: expected a closing `'`"),
    "unterminated file path": (
        "use ::lib/util.bbj\n",
        1,
        5,
        "unterminated file path: expected a closing `::`",
    ),
    "positional mnemonic without parentheses": (
        "print @ 1\n",
        1,
        9,
        "expected `(` after `@`, found `1`",
    ),
    "statement starting with a comma": (",\n", 1, 1, "expected a statement, found `,`"),
    "closing parenthesis without opener": ("x = a)\n", 1, 6, "`)` has no matching `(`"),
    "second statement misspelled": (
        "print x; retrun\n",
        1,
        10,
        "`retrun` is not a BBj verb: expected a statement (`return`?)",
    ),
    "error in a continuation line": (
        'print "a",\n:  b c\n',
        2,
        6,
        "expected `,` after `b`, found `c`",
    ),
}


@pytest.mark.parametrize("code", VALID.values(), ids=VALID.keys())
def test_bbj_statements_pass(code: str) -> None:
    result = CHECKER.check_text(code)
    assert [d.describe() for d in result.diagnostics] == []


@pytest.mark.parametrize(("code", "line", "col", "message"), INVALID.values(), ids=INVALID.keys())
def test_errors_say_where_and_what_was_expected(
    code: str, line: int, col: int, message: str
) -> None:
    result = CHECKER.check_text(code)
    assert not result.ok
    first = result.diagnostics[0]
    assert (first.line, first.col, first.message) == (line, col, message)


def test_the_description_names_line_and_column() -> None:
    (diagnostic,) = CHECKER.check_text("x = 1\n\nx = 1 +\n").diagnostics
    assert diagnostic.describe() == "line 3, col 8: expected an expression after `+`"


def test_only_the_first_error_of_a_line_is_reported() -> None:
    result = CHECKER.check_text("x = 1 +; y = 2 +\nz = 3 *\n")
    assert [(d.line, d.col) for d in result.diagnostics] == [(1, 8), (2, 8)]


def test_block_keywords_after_an_error_still_count() -> None:
    code = "for i = 1 to; print i\nnext i\nif x = then\n  y = 1\nfi\n"
    result = CHECKER.check_text(code)
    assert [d.line for d in result.diagnostics] == [1, 3]


def test_a_comment_hides_everything_after_it() -> None:
    assert CHECKER.check_text('x = 1; rem x = 1 + "unterminated (\n').ok
    assert not CHECKER.check_text('x = 1; y = "unterminated\n').ok


def test_deeply_nested_expressions_are_refused_without_recursion_errors() -> None:
    result = CHECKER.check_text("x = " + "(" * 5000 + "1" + ")" * 5000 + "\n")
    assert result.tool_error is None
    assert [d.message for d in result.diagnostics] == ["expressions nested more than 120 deep"]


def test_every_verb_of_the_language_table_has_a_handler() -> None:
    from daemon.check._verbs import VERBS as HANDLED
    from fim.language import BLOCK_CLOSERS, BLOCK_OPENERS, VERBS

    assert set(HANDLED) == VERBS
    assert BLOCK_OPENERS | BLOCK_CLOSERS <= VERBS
