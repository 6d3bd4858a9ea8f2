"""bbj-coder tui (see DESIGN §1)."""
