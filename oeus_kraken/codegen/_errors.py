"""The errors `oeus_kraken.codegen` raises, apart so that each of its steps can raise them.

    ConfigurationError (oeus_kraken: bad arguments or environment, a KrakenError)
    └── CodegenError            the inputs cannot be generated from, or the output not written
        └── ForeignFileError    the package folder holds a file codegen did not write

Every message is one line that says what is wrong, where, and what to do; `oeus-kraken codegen`
prints it as it is and exits 2.
"""

from __future__ import annotations

from pathlib import Path

from .._errors import ConfigurationError

__all__ = ["CodegenError", "ForeignFileError", "shown"]


class CodegenError(ConfigurationError):
    """The operations, schema, names or paths cannot be generated from or written to; the
    message says which and where. Nothing was written."""


class ForeignFileError(CodegenError):
    """The package folder holds a file that no earlier codegen run wrote (or one it wrote and
    someone changed since), so codegen will not replace the folder. `path` is the first one."""

    def __init__(self, message: str, *, path: Path) -> None:
        super().__init__(message)
        self.path = path


def shown(path: str | Path) -> str:
    """A path as a message shows it: as given, or quoted when it holds a character (a newline,
    a control character) that would break the message's one line."""
    text = str(path)
    return text if text.isprintable() else repr(text)
