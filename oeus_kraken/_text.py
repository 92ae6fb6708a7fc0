"""Text from the API as the command line and the files it writes show it: the characters a
terminal acts on spelt out, so that a name cannot add a line or a row, nor drive a terminal."""

from __future__ import annotations


def printable(text: str) -> str:
    """`text` with each character a terminal would act on (a newline, an escape code) spelt as
    Python spells it (`\\n`, `\\x1b`); printable text, whatever its script, is left as it is."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)
