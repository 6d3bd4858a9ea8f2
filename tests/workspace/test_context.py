"""Pinned FIM context and chat notes from the workspace index."""

from __future__ import annotations

from daemon.workspace import WorkspaceContext
from fim import QWEN25_CODER
from fim.context import assemble_prompt

from .conftest import MAIN, Tree


def words(text: str) -> int:
    """A stand-in token count: the number of whitespace-separated words."""
    return len(text.split())


def pinned(tree: Tree, prefix: str, budget: int = 10_000, path: str | None = None):
    context = WorkspaceContext(tree.index(), budget)
    return context.pinned(path or str(tree.main), prefix, "", words)


def test_used_classes_and_called_programs_are_pinned_in_file_order(tree: Tree) -> None:
    chunks = pinned(tree, MAIN)
    assert [c.path for c in chunks] == ["app/lib/Customer.bbj", "Order.bbj", "tax.bbj"]
    customer, order, tax = (c.text for c in chunks)
    assert customer.startswith("rem /** A customer of the shop. */\nclass public Customer\n")
    assert "    method public BBjString getName()\n" in customer
    assert "rem /** The customer's display name. */" in customer
    assert "audit" not in customer and "Name$" not in customer  # private members are left out
    assert "methodret" not in customer  # signatures, never bodies
    assert customer.endswith("classend\n")
    assert "method public void addLine(BBjString item$, BBjNumber qty)" in order
    assert tax == "vat:\nenter net, gross!\n"


def test_relative_use_resolves_beside_the_file_not_the_decoy(tree: Tree) -> None:
    text = "\n".join(c.text for c in pinned(tree, MAIN))
    assert "legacyOnly" not in text and "getName" in text


def test_type_of_object_before_cursor_from_declare_and_new(tree: Tree) -> None:
    # Neither class is `use`d here: the declared / new'd type is looked up by name.
    declared = pinned(tree, "declare Customer c!\nx = 1\nc!.")
    assert [c.path for c in declared] == ["app/lib/Customer.bbj"]
    created = pinned(tree, "o! = new Order()\nprint o!.")
    assert [c.path for c in created] == ["Order.bbj"]
    field = pinned(
        tree, "class public Shop\n  field public Order Last!\n  method public void x()\n    #Last!."
    )
    assert [c.path for c in field] == ["Order.bbj"]
    static = pinned(tree, "n = Customer.")
    assert [c.path for c in static] == ["app/lib/Customer.bbj"]
    assert pinned(tree, "unknown!.") == ()


def test_budget_keeps_the_class_before_the_cursor_first(tree: Tree) -> None:
    everything = pinned(tree, MAIN)
    order_cost = words(f"\n{everything[1].path}\n{everything[1].text}")
    # Room for about one class: the Order object before the cursor wins over Customer.
    chunks = pinned(tree, MAIN + "o!.", budget=order_cost + 2)
    assert [c.path for c in chunks] == ["Order.bbj"]
    assert "addLine" in chunks[0].text


def test_a_class_too_big_alone_loses_docs_then_members(tree: Tree) -> None:
    full = pinned(tree, "declare Customer c!\nc!.")[0].text
    small = pinned(tree, "declare Customer c!\nc!.", budget=words(full) - 2)[0].text
    assert "rem /**" not in small and "getName" in small
    tiny = pinned(tree, "declare Customer c!\nc!.", budget=12)
    assert tiny[0].text == "class public Customer\n    field public BBjNumber Credit\nclassend\n"
    assert pinned(tree, "declare Customer c!\nc!.", budget=3) == ()


def test_order_is_stable_while_typing(tree: Tree) -> None:
    first = pinned(tree, MAIN + "c!.")
    later = pinned(tree, MAIN + "c!.getName()\nx = 1\no!.ad")
    assert first == later  # the cursor moved to another object: same chunks, same order
    assert assemble_prompt(
        MAIN, "", fmt=QWEN25_CODER, count_tokens=words, max_prompt_tokens=4000, pinned=first
    ).prompt.startswith("<|repo_name|>workspace\n<|file_sep|>app/lib/Customer.bbj\n")


def test_relative_current_path_is_found_under_the_roots(tree: Tree) -> None:
    chunks = pinned(tree, MAIN, path="app/main.bbj")
    assert "getName" in chunks[0].text and "legacyOnly" not in chunks[0].text


def test_chat_note_names_definitions_with_their_files(tree: Tree) -> None:
    context = WorkspaceContext(tree.index(), 10_000)
    note = context.chat_note("How do I call addLine on an Order?", words)
    assert "rem file: Order.bbj" in note and "class public Order" in note
    assert "method public void addLine(BBjString item$, BBjNumber qty)" in note
    assert context.chat_note("What is a BBjWindow?", words) == ""
    assert WorkspaceContext(tree.index(), 5).chat_note("Order", words) == ""


def test_index_changes_reach_the_pinned_context(tree: Tree) -> None:
    index = tree.index()
    context = WorkspaceContext(index, 10_000)
    before = context.pinned(str(tree.main), MAIN, "", words)
    tree.order.write_text(
        "class public Order\n  method public void ship()\n  methodend\nclassend\n"
    )
    index.update(tree.order)
    after = context.pinned(str(tree.main), MAIN, "", words)
    assert "addLine" in before[1].text and "ship" in after[1].text


def test_parent_classes_follow_and_rank_right_after_the_focus(tree: Tree) -> None:
    vip = (
        "class public VipCustomer extends Customer\n"
        "  method public BBjNumber discount()\n  methodend\nclassend\n"
    )
    (tree.root / "app" / "Vip.bbj").write_text(vip)
    chunks = pinned(tree, "declare VipCustomer v!\nv!.")
    # The parent is the Customer nearest the subclass's file, not the decoy in lib/.
    assert [c.path for c in chunks] == ["app/Vip.bbj", "app/lib/Customer.bbj"]
    assert "getName" in chunks[1].text
    both = sum(words(f"\n{c.path}\n{c.text}") for c in chunks)
    tight = pinned(tree, MAIN + "declare VipCustomer v!\nv!.", budget=both)
    paths = [c.path for c in tight]
    assert paths[:2] == ["app/lib/Customer.bbj", "app/Vip.bbj"] and "Order.bbj" not in paths
