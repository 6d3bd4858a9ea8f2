"""bbj-coder trainer (see DESIGN §1)."""
