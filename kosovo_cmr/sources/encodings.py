"""Text encodings told apart by content, for the languages of Kosovo.

A Shapefile without ``.cpg`` (or a CSV) does not say how its text is encoded. GDAL then
reads a ``.dbf`` as Latin-1, and Serbian names written in cp1250 were stored as
mojibake: "Leposaviæ" for "Leposavić", "Graèanica" for "Gračanica" (issue 14).

:func:`detect_encoding` decodes the bytes with each candidate of :data:`CANDIDATES`
(UTF-8, the Windows code pages of Central Europe, Western Europe and Cyrillic, and
ISO-8859-2) and scores the letters each gives: the letters of Kosovo's official
languages count for a candidate (Albanian ë ç, Serbian Latin č ć đ š ž, Serbian
Cyrillic), letters of other alphabets, control characters and words that mix Latin and
Cyrillic letters count against it. Text that is valid UTF-8 is UTF-8 (other encodings
of accented letters almost never are), ASCII is ASCII. The choice, and whether it was
clear, is reported (:class:`EncodingGuess`); ``--encoding`` or a ``.cpg`` file always
wins over detection.
"""

from __future__ import annotations

import os
import re
import struct
import unicodedata
from dataclasses import dataclass

import numpy as np

__all__ = [
    "CANDIDATES",
    "KOSOVO_LETTERS",
    "EncodingGuess",
    "score_text",
    "detect_encoding",
    "dbf_text",
]

#: Encodings detection chooses among, in order of preference when they read alike.
CANDIDATES = ("utf-8", "cp1250", "cp1252", "iso-8859-2", "cp1251")

_SERBIAN_CYRILLIC = "АБВГДЂЕЖЗИЈКЛЉМНЊОПРСТЋУФХЦЧЏШ"

#: Non-ASCII letters of Albanian, Serbian Latin and Serbian Cyrillic (both cases).
KOSOVO_LETTERS = frozenset("ëËçÇ" + "čČćĆđĐšŠžŽ" + _SERBIAN_CYRILLIC + _SERBIAN_CYRILLIC.lower())

#: Symbols common in operators' text, neutral for the score.
_NEUTRAL = frozenset("°±€–—‘’‚“”„…«»·×")

_WORD = re.compile(r"\w+")


@dataclass(frozen=True)
class EncodingGuess:
    """The encoding :func:`detect_encoding` chose.

    Attributes
    ----------
    encoding : str
        A Python codec name (``utf-8``, ``cp1250``...); ``ascii`` for plain ASCII.
    confident : bool
        Whether the content decided clearly (else the choice is a best guess).
    alike : tuple of str
        Other candidates that read the text exactly the same.
    """

    encoding: str
    confident: bool
    alike: tuple[str, ...] = ()

    def describe(self) -> str:
        """Return the choice in words, for a notice.

        Examples
        --------
        >>> EncodingGuess("cp1250", True, ("iso-8859-2",)).describe()
        'cp1250 (iso-8859-2 reads it the same)'
        """
        text = self.encoding
        if self.alike:
            text += f" ({', '.join(self.alike)} read{'s' if len(self.alike) == 1 else ''}"
            text += " it the same)"
        if not self.confident:
            text += ", a best guess"
        return text


def _score_char(ch: str) -> float:
    if ch in KOSOVO_LETTERS:
        return 2.0
    if ch in _NEUTRAL:
        return 0.0
    category = unicodedata.category(ch)
    if category[0] == "C":  # control or unassigned: a wrong decoding
        return -6.0
    if category[0] == "L":
        return -2.0
    if category[0] in ("N", "S"):
        return -1.0
    return 0.0


def _script(ch: str) -> str:
    if "\u0400" <= ch <= "\u04ff":
        return "cyrillic"
    return "latin" if ch.isalpha() else ""


def score_text(text: str) -> float:
    """Score how much a decoded text looks like Albanian or Serbian (higher is better).

    Examples
    --------
    >>> score_text("Leposavić") > score_text("Leposaviæ") > score_text("Leposaviж")
    True
    """
    score = sum(_score_char(ch) for ch in text if ord(ch) > 127)
    for word in _WORD.findall(text):
        if all(ord(ch) < 128 for ch in word):
            continue
        scripts = {_script(ch) for ch in word} - {""}
        if len(scripts) > 1:  # "Leposaviж": a Cyrillic letter in a Latin word
            score -= 6.0
    return score


def detect_encoding(data: bytes) -> EncodingGuess:
    """Choose the encoding of a text among :data:`CANDIDATES` by its content.

    Parameters
    ----------
    data : bytes
        The text, or a sample of it (e.g. from :func:`dbf_text`).

    Returns
    -------
    EncodingGuess

    Examples
    --------
    >>> detect_encoding("Leposavić, Gračanica".encode("cp1250")).encoding
    'cp1250'
    >>> detect_encoding("Лепосавић".encode("cp1251")).encoding
    'cp1251'
    >>> detect_encoding("Prishtinë".encode("utf-8")).encoding
    'utf-8'
    >>> detect_encoding(b"plain").encoding
    'ascii'
    """
    if data.isascii():
        return EncodingGuess("ascii", True)
    try:
        data.decode("utf-8")
        return EncodingGuess("utf-8", True)
    except UnicodeDecodeError:
        pass
    readings: dict[str, str] = {}
    for codec in CANDIDATES[1:]:
        try:
            readings[codec] = data.decode(codec)
        except UnicodeDecodeError:
            continue
    scores = {codec: score_text(text) for codec, text in readings.items()}
    best = max(scores, key=lambda c: (scores[c], -CANDIDATES.index(c)))
    alike = tuple(c for c in readings if c != best and readings[c] == readings[best])
    rivals = [s for c, s in scores.items() if c != best and c not in alike]
    margin = scores[best] - max(rivals, default=float("-inf"))
    confident = scores[best] > 0 and margin >= 2.0
    return EncodingGuess(best, confident, alike)


def dbf_text(path: str | os.PathLike, *, max_bytes: int = 4 * 1024**2) -> bytes:
    """Return the bytes of the character fields of a ``.dbf``, for detection.

    Only text (``C``) fields are taken, from the first records up to ``max_bytes``;
    values are separated by spaces. A file too short or not a dBASE table gives ``b""``.

    Parameters
    ----------
    path : str or path-like
        The ``.dbf`` file.
    max_bytes : int
        How much of the records to read at most.
    """
    with open(path, "rb") as handle:
        header = handle.read(32)
        if len(header) < 32:
            return b""
        records, header_len, record_len = struct.unpack("<IHH", header[4:12])
        if record_len <= 1 or header_len < 33:
            return b""
        descriptors = handle.read(header_len - 32)
        fields, offset = [], 1  # byte 0 of each record is the deletion flag
        for i in range(0, len(descriptors) - 31, 32):
            desc = descriptors[i : i + 32]
            if desc[0] == 0x0D:
                break
            kind, length = chr(desc[11]), desc[16]
            if kind == "C":
                fields.append((offset, offset + length))
            offset += length
        count = min(records, max(1, max_bytes // record_len))
        handle.seek(header_len)
        raw = handle.read(count * record_len)
    rows = len(raw) // record_len
    if not fields or not rows:
        return b""
    table = np.frombuffer(raw[: rows * record_len], dtype=np.uint8).reshape(rows, record_len)
    parts = [table[:, a:b] for a, b in fields if b <= record_len]
    text = np.hstack([np.pad(p, ((0, 0), (0, 1)), constant_values=32) for p in parts])
    return text.tobytes()
