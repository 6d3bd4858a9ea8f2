"""A small BBj workspace on disk: a program, a class beside it, a library in a PREFIX folder."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from daemon.models.tinymodel import TinyModel
from daemon.workspace import Roots, WorkspaceIndex
from tests.conftest import RunningDaemon, start_daemon

CUSTOMER = """\
rem /** A customer of the shop. */
class public Customer
  field private BBjString Name$
  field public BBjNumber Credit
  rem /** The customer's display name. */
  method public BBjString getName()
    methodret #Name$
  methodend
  method public void setName(BBjString name$)
    #Name$ = name$
  methodend
  method private void audit()
  methodend
classend
"""

DECOY = """\
class public Customer
  method public void legacyOnly()
  methodend
classend
"""

ORDER = """\
use ::lib/Customer.bbj::Customer
class public Order
  field public Customer Buyer!
  method public BBjNumber total()
    methodret 0
  methodend
  method public void addLine(BBjString item$, BBjNumber qty)
  methodend
classend
"""

TAX = """\
enter amount, rate$
rem the program's own parameters
vat:
  enter net, gross!
  exit
"""

MAIN = """\
use ::lib/Customer.bbj::Customer
use ::Order.bbj::Order
declare Customer c!
o! = new Order()
call "tax.bbj::vat", 1, x!
"""


@dataclass
class Tree:
    root: Path
    prefix: Path
    main: Path
    customer: Path
    decoy: Path
    order: Path
    tax: Path
    db: Path

    def index(self, **kwargs: int) -> WorkspaceIndex:
        index = WorkspaceIndex(Roots([self.root], [self.prefix]), self.db, **kwargs)
        index.build()
        return index


@pytest.fixture
def tree(tmp_path: Path) -> Tree:
    root, prefix = tmp_path / "ws", tmp_path / "bbx-lib"
    (root / "app" / "lib").mkdir(parents=True)
    (root / "lib").mkdir()
    prefix.mkdir()
    files = {
        root / "app" / "main.bbj": MAIN,
        root / "app" / "lib" / "Customer.bbj": CUSTOMER,
        root / "lib" / "Customer.bbj": DECOY,
        prefix / "Order.bbj": ORDER,
        prefix / "tax.bbj": TAX,
    }
    for path, text in files.items():
        path.write_text(text)
    return Tree(
        root,
        prefix,
        root / "app" / "main.bbj",
        root / "app" / "lib" / "Customer.bbj",
        root / "lib" / "Customer.bbj",
        prefix / "Order.bbj",
        prefix / "tax.bbj",
        tmp_path / "cache" / "index.sqlite",
    )


@pytest.fixture(scope="package")
def workspace_daemon(
    tiny_model: TinyModel, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[RunningDaemon, Path]]:
    base = tmp_path_factory.mktemp("ws-daemon")
    root, prefix = base / "ws", base / "lib"
    (root / "app" / "lib").mkdir(parents=True)
    prefix.mkdir()
    (root / "app" / "main.bbj").write_text(MAIN)
    (root / "app" / "lib" / "Customer.bbj").write_text(CUSTOMER)
    (prefix / "Order.bbj").write_text(ORDER)
    running = start_daemon(
        base / "home",
        "--model",
        str(tiny_model.gguf_path),
        BBJ_CODER_MODEL_N_CTX="4096",
        BBJ_CODER_CHECK_FIM="false",
        BBJ_CODER_FIM_CACHE_SIZE="0",
        BBJ_CODER_FIM_MAX_TOKENS="4",
        BBJ_CODER_WORKSPACE_ROOTS=str(root),
        BBJ_CODER_WORKSPACE_PREFIX=str(prefix),
    )
    with running.client() as http:
        deadline = time.monotonic() + 30
        while not http.get("/v1/bbj/workspace").json().get("ready"):
            assert time.monotonic() < deadline, running.log()
            time.sleep(0.05)
    yield running, root
    running.stop()
