"""The errors a sweep raises for bad input: a bad specification, or a results file that is not ours."""

from __future__ import annotations

from simulator.errors import PjsimError

__all__ = ["SweepSpecError", "SweepStoreError"]


class SweepSpecError(PjsimError):
    """A sweep specification is malformed: names the file, the key and what was expected.

    Raised while the sweep is planned, before any point is computed.
    """

    def __init__(self, source: str, key: str, message: str) -> None:
        self.source, self.key = source, key
        super().__init__(f"{source}: {key}: {message}")


class SweepStoreError(PjsimError):
    """The results database cannot be used (corrupted, or written by something else); it is left untouched."""
