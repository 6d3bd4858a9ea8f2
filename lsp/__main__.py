"""``python -m lsp`` == ``bbj-coder lsp``."""

import sys

from lsp.server import run_lsp

sys.exit(run_lsp(sys.argv[1:]))
