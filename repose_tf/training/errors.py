"""Expected training failures, each with the exit code the CLI returns for it.

The CLI prints ``error: <message>`` (no traceback) and exits with the error's ``exit_code``, so a
script can tell a bad command line (2) from a run that diverged (3) or a multi-worker run that
lost a worker (4) without reading the text.
"""

from __future__ import annotations


class TrainingError(RuntimeError):
    """A readable, expected failure (bad flags, bad data paths, a refused resume)."""

    exit_code = 2


class ConfigChangeError(TrainingError):
    """``--resume`` with a training choice that differs from the one the run was started with."""


class NonFiniteLoss(TrainingError):
    """The loss became NaN/Inf; the last good checkpoint is kept."""

    exit_code = 3


class PeerLost(TrainingError):
    """``--strategy multi_worker``: another worker stopped answering; restart all with --resume."""

    exit_code = 4


__all__ = ["ConfigChangeError", "NonFiniteLoss", "PeerLost", "TrainingError"]
