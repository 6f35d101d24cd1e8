"""Exceptions pjsim raises for bad input; each message names where the problem is and what was expected."""

from __future__ import annotations

__all__ = ["PjsimError", "ProfileError", "TraceError", "ModelError", "ReportError"]


class PjsimError(Exception):
    """Base class of every error pjsim raises on purpose (the CLI prints these as one line)."""


class ProfileError(PjsimError):
    """A hardware profile is malformed: names the file, the key path, what was expected and what was found."""

    def __init__(self, path: str, key: str, expected: str, found: object) -> None:
        self.path, self.key, self.expected, self.found = path, key, expected, found
        super().__init__(f"{path}: key '{key}': expected {expected}, found {found!r}")


class TraceError(PjsimError):
    """Tracing a model failed: names the model and, when known, the layer that failed."""


class ModelError(PjsimError):
    """A model name or import path could not be resolved."""


class ReportError(PjsimError):
    """A report could not be written."""
