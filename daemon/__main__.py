"""python -m daemon == bbj-coder."""

import sys

from daemon.cli import main

sys.exit(main())
