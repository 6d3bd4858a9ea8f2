"""``bbj-coder lsp``: a language server (pygls, stdio) that brings the daemon into any editor.

AI completions (``textDocument/inlineCompletion``, with ``textDocument/completion`` as a
fallback), compiler diagnostics, and a "Fix with bbj-coder" quick fix.  It talks to the daemon
only over HTTP (:mod:`daemon.client`), starting it when none runs.  Entry point:
:func:`lsp.server.run_lsp`.  See ``lsp/README.md``.
"""
