"""bbj-coder's terminal UI (Textual): health checks, the model catalogue and the daemon log.

It talks to the daemon only over HTTP (``daemon.client``) and manages models through the model
store; ``tui.app.run_tui`` is the entry point behind ``bbj-coder tui``.
"""
