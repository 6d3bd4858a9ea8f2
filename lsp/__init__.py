"""bbj-coder lsp (see DESIGN §1)."""
