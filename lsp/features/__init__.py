"""The language server's capabilities, one module each, every one with ``setup(server)``.

Order matters only for document events: the context ring hears of an edit before diagnostics.
"""

from __future__ import annotations

from types import ModuleType

from lsp.features import (
    code_actions,
    completion,
    context,
    diagnostics,
    inline_completion,
    lifecycle,
    next_edit,
    sync,
    workspace,
)

FEATURES: tuple[ModuleType, ...] = (
    lifecycle,
    sync,
    context,
    diagnostics,
    inline_completion,
    completion,
    code_actions,
    next_edit,
    workspace,
)
