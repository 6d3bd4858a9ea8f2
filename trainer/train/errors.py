"""The one exception the training commands raise for problems a user can act on."""

from __future__ import annotations

from daemon.errors import BbjCoderError


class TrainError(BbjCoderError):
    """A readable sentence saying what is wrong and what to do; ``exit_code`` is the CLI status.

    2 means the command was called wrongly (bad config, missing input), 1 that it failed while
    running (out of memory, disk full).
    """

    def __init__(self, message: str, exit_code: int = 2) -> None:
        super().__init__(message)
        self.exit_code = exit_code
