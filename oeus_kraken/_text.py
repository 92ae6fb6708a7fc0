"""Text at the edges: the API's as the command line and the files it writes show it (the
characters a terminal acts on spelt out, so that a name cannot add a line or a row, nor drive a
terminal), and a user's, which must be UTF-8 to be sent at all."""

from __future__ import annotations


def printable(text: str) -> str:
    """`text` with each character a terminal would act on (a newline, an escape code) spelt as
    Python spells it (`\\n`, `\\x1b`); printable text, whatever its script, is left as it is."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def is_utf8(text: str) -> bool:
    """Whether `text` can be encoded as UTF-8: not if it holds lone surrogates, as Python keeps
    the bytes of an argument or environment variable set in another encoding."""
    if text.isascii():
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
