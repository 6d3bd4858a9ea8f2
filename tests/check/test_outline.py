"""The program outline the workspace index is built from (daemon.check._outline)."""

from __future__ import annotations

from daemon.check._outline import declared_type, outline

CUSTOMER = """\
use java.util.HashMap
use ::lib/Address.bbj::Address

rem /**
rem  * A customer of the shop.
rem  */
class public Customer extends Person implements Comparable
  field private BBjString Name$
  rem /** The customer's addresses. */
  field public java.util.HashMap Addresses! = new HashMap()
  rem /** Make one. */
  method public Customer(BBjString name$)
    #Name$ = name$
  methodend
  method public BBjString getName(); rem the name
    methodret #Name$
  methodend
  method public static byte[] encode(BBjString s$, BBjNumber width)
  methodend
classend

interface public Greeter
  method public void greet(Customer c!)
interfaceend
"""

PROGRAM = """\
declare auto BBjWindow wnd!
declare Customer c!
let shop! = new com.shop.Shop("x")
#cache! = new HashMap()
call "lib/tax.bbj::vat", amount, rate$, err=*next
call prog$
def fnTax(x)=x*1.19
start:
  enter a$, b, c![all], err=oops
  print "done"
"""


def test_classes_members_signatures_and_doc_comments() -> None:
    result = outline(CUSTOMER)
    names = [(s.kind, s.name, s.container) for s in result.symbols]
    assert names == [
        ("class", "Customer", None),
        ("field", "Name$", "Customer"),
        ("field", "Addresses!", "Customer"),
        ("method", "Customer", "Customer"),
        ("method", "getName", "Customer"),
        ("method", "encode", "Customer"),
        ("interface", "Greeter", None),
        ("method", "greet", "Greeter"),
    ]
    customer, _name, addresses, ctor, get_name, encode = result.symbols[:6]
    assert customer.doc == "A customer of the shop."
    assert customer.signature == "class public Customer extends Person implements Comparable"
    assert (
        addresses.type_name == "java.util.HashMap" and addresses.doc == "The customer's addresses."
    )
    assert ctor.doc == "Make one." and ctor.type_name == ""
    assert get_name.signature == "method public BBjString getName()"  # the `; rem` is not kept
    assert get_name.type_name == "BBjString" and get_name.doc == ""
    assert encode.type_name == "byte[]"


def test_uses_resolve_targets_and_java_imports() -> None:
    uses = outline(CUSTOMER).uses
    assert [(u.name, u.path) for u in uses] == [("HashMap", None), ("Address", "lib/Address.bbj")]


def test_calls_enters_functions_labels_and_object_types() -> None:
    result = outline(PROGRAM)
    assert [(c.program, c.label) for c in result.calls] == [("lib/tax.bbj", "vat")]
    assert [(e.params, e.label) for e in result.enters] == [(("a$", "b", "c![all]"), "start")]
    assert [(s.kind, s.name) for s in result.symbols] == [
        ("function", "fnTax"),
        ("label", "start"),
    ]
    assert result.symbols[0].signature == "def fnTax(x)"
    assert declared_type(result.variables, "wnd!") == "BBjWindow"
    assert declared_type(result.variables, "C!") == "Customer"  # any case when no exact match
    assert declared_type(result.variables, "shop!") == "com.shop.Shop"
    assert declared_type(result.variables, "#cache!") == "HashMap"
    assert declared_type(result.variables, "nobody!") is None


def test_line_numbered_and_broken_code_outline_what_parses() -> None:
    code = '0010 CLASS PUBLIC Old\n0020 METHOD PUBLIC VOID run(\n0030 CLASSEND\n0040 CALL "x.bbj"\n'
    result = outline(code)
    assert [(s.kind, s.name) for s in result.symbols] == [("class", "Old"), ("method", "run")]
    assert [c.program for c in result.calls] == ["x.bbj"]
    assert outline("").symbols == ()


def test_declarations_only_pass_outlines_the_real_corpus_identically() -> None:
    import pytest

    from daemon.check import decode_source
    from daemon.check._outline import declarations
    from tests.check.real_corpus import CORPUS

    if not CORPUS.is_dir():
        pytest.skip("the shared corpus is not here")
    for path in sorted(p for p in CORPUS.rglob("*") if p.is_file()):
        code = decode_source(path.read_bytes())
        full, quick = outline(code), declarations(code)
        assert (quick.symbols, quick.uses, quick.calls, quick.enters) == (
            full.symbols,
            full.uses,
            full.calls,
            full.enters,
        ), path
        assert quick.variables == ()
