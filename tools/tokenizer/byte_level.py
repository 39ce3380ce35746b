"""Byte-level pieces shared by the BPE trainer and encoder: the GPT-2 byte alphabet and the GPT-2 split.

Both must agree exactly with what the `ByteLevel` pre-tokenizer of Hugging Face `tokenizers` (and of the
JS port, @huggingface/tokenizers) does, or merges learned here would never fire at encode time.
"""

import re
import unicodedata


def bytes_to_unicode() -> dict[int, str]:
    """The GPT-2 table mapping each byte 0..255 to one printable code point.

    Bytes that are already printable Latin-1 map to themselves; the 68 others (controls, space, NBSP,
    soft hyphen) are moved to U+0100 upwards, in byte order, so no symbol is whitespace or invisible.
    """
    printable = set(range(ord("!"), ord("~") + 1))
    printable |= set(range(ord("\u00a1"), ord("\u00ac") + 1))
    printable |= set(range(ord("\u00ae"), ord("\u00ff") + 1))
    table: dict[int, str] = {}
    shifted = 0
    for b in range(256):
        if b in printable:
            table[b] = chr(b)
        else:
            table[b] = chr(256 + shifted)
            shifted += 1
    return table


BYTE_TO_SYMBOL = bytes_to_unicode()
SYMBOL_TO_BYTE = {s: b for b, s in BYTE_TO_SYMBOL.items()}

# JavaScript's \s (the JS tokenizer runs the pattern as a JS RegExp with the u flag): ECMAScript
# WhiteSpace + LineTerminator. Python's str.isspace() differs (it includes U+001C..U+001F and U+0085).
_JS_SPACE = set("\t\n\u000b\f\r \u00a0\u1680\u2028\u2029\u202f\u205f\u3000\ufeff")
_JS_SPACE |= {chr(c) for c in range(0x2000, 0x200B)}

# The GPT-2 pattern, `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`, with
# \p{L} and \p{N} narrowed to ASCII. Python's `re` has no \p{..}, so `gpt2_split` first maps every
# non-ASCII code point to an ASCII stand-in of the same class (letter -> 'a', number -> '0', JS
# whitespace -> '\t', anything else -> '!'), matches on that, and slices the original text by the match
# spans. One code point maps to one code point, so spans line up, and the split is exact for every class
# the pattern distinguishes (Unicode general categories L*, Nd/Nl/No, JS whitespace).
_GPT2_ASCII = re.compile(
    r"'s|'t|'re|'ve|'m|'ll|'d| ?[A-Za-z]+| ?[0-9]+| ?[^\sA-Za-z0-9]+|\s+(?!\S)|\s+", re.ASCII
)


def _stand_in(ch: str) -> str:
    if ch < "\u0080":
        # ASCII already means the same thing to both engines once \s is limited to [ \t\n\v\f\r].
        return ch
    if ch in _JS_SPACE:
        return "\t"
    category = unicodedata.category(ch)
    if category[0] == "L":
        return "a"
    if category in ("Nd", "Nl", "No"):
        return "0"
    return "!"


def gpt2_split(text: str) -> list[str]:
    """Split text into the pieces the ByteLevel pre-tokenizer (use_regex: true) produces."""
    shadow = "".join(_stand_in(ch) for ch in text)
    return [text[m.start() : m.end()] for m in _GPT2_ASCII.finditer(shadow)]


def to_symbols(piece: str) -> str:
    """UTF-8 bytes of a piece, each byte written as its GPT-2 symbol (the form vocab entries take)."""
    return "".join(BYTE_TO_SYMBOL[b] for b in piece.encode("utf-8"))


def from_symbols(symbols: str) -> bytes:
    return bytes(SYMBOL_TO_BYTE[s] for s in symbols)
