"""The root of every bbj-coder exception.

It lives here, in the package that imports nothing of ours, so that ``fim``'s own errors can
belong to the one tree too. :mod:`daemon.errors` re-exports it and draws the whole tree.
"""

from __future__ import annotations


class BbjCoderError(Exception):
    """Base class of every bbj-coder exception: ``str(exc)`` is a sentence a user can act on.

    Catch this (or one of its branches) and nothing else: errors from wrapped libraries are
    mapped onto the tree where they are raised (``raise … from exc``).
    """
