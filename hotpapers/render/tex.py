"""TeX in titles and abstracts made readable: Unicode for Discord and X, MathML for the site.

Maths is what stands between `$...$`, `$$...$$`, `\\(...\\)` or `\\[...\\]`. A dollar sign
alone is money, not maths ("costs $5 to $10"): as in Pandoc, an opening `$` is followed by a
non-space, a closing one follows a non-space and is not followed by a digit. Outside maths
only the escapes (`\\$`, `\\%`, ...) and emphasis commands are undone.

A maths span holding anything this module cannot convert (an unknown command, an alignment)
stays exactly as written, delimiters included: the reader sees the author's TeX rather than
a half-converted guess, and nothing is ever dropped.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable

from latex2mathml.converter import convert as latex_to_mathml
from lxml import etree
from markupsafe import Markup, escape

from hotpapers.render import tex_tables as t

__all__ = ["to_html", "to_unicode"]

_MATHS = re.compile(
    r"""\$\$(?P<display>.+?)\$\$
      | \\\[(?P<bracket>.+?)\\\]
      | \\\((?P<paren>.+?)\\\)
      | (?<![\\$])\$(?P<inline>[^\s$](?:[^$]*?[^\s$\\])?)\$(?![\d$])
    """,
    re.X | re.S,
)
_TEXT_ESCAPE = re.compile(r"\\([$%&#_])")
_TEXT_STYLE = re.compile(r"\\(?:emph|textit|textbf|texttt|textsc|textrm)\{([^{}$]*)\}")
# A command swallows the spaces after it, as in TeX.
_TOKEN = re.compile(r"\\[A-Za-z]+\s*|\\.|\s+|.", re.S)


def to_unicode(text: str) -> str:
    """`text` with its maths as Unicode (α, x², ℝⁿ, O(n log n)); what cannot be, as written."""
    return _convert(text, _text_to_unicode, _maths_to_unicode)


def to_html(text: str) -> Markup:
    """`text` as safe HTML: everything escaped, maths as MathML (or the escaped TeX)."""
    return Markup(_convert(text, lambda plain: str(escape(_text_to_unicode(plain))), _mathml))


def _convert(
    text: str, on_text: Callable[[str], str], on_maths: Callable[[str, str, bool], str]
) -> str:
    out: list[str] = []
    end = 0
    for match in _MATHS.finditer(text):
        out.append(on_text(text[end : match.start()]))
        display = match.group("display") is not None or match.group("bracket") is not None
        source = next(group for group in match.groups() if group is not None)
        out.append(on_maths(source, match.group(0), display))
        end = match.end()
    out.append(on_text(text[end:]))
    return "".join(out)


def _text_to_unicode(text: str) -> str:
    return _TEXT_ESCAPE.sub(r"\1", _TEXT_STYLE.sub(r"\1", text))


def _maths_to_unicode(source: str, original: str, display: bool) -> str:
    try:
        return _Maths(source).render()
    except _Unconvertible:
        return original


class _Unconvertible(Exception):
    """The maths uses something this converter does not know."""


# Pieces of converted maths: how each kind is spaced is decided when they are joined.
_ATOM, _OP, _FN, _SCRIPT, _SPACE = "atom", "op", "fn", "script", "space"


class _Maths:
    """A small recursive-descent reader of TeX maths producing plain Unicode."""

    def __init__(self, source: str) -> None:
        self.tokens = _TOKEN.findall(source)
        self.pos = 0

    def render(self) -> str:
        pieces = self._sequence(closing=None)
        return _join(pieces)

    def _next(self) -> str:
        if self.pos >= len(self.tokens):
            raise _Unconvertible("unbalanced")
        token = self.tokens[self.pos]
        self.pos += 1
        return token

    def _peek(self) -> str | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def _sequence(self, closing: str | None) -> list[tuple[str, str]]:
        pieces: list[tuple[str, str]] = []
        while (token := self._peek()) is not None and token != closing:
            self.pos += 1
            pieces.extend(self._piece(token))
        if closing is not None:
            self._next()  # the closing brace; raises when it is missing
        return pieces

    def _piece(self, token: str) -> list[tuple[str, str]]:
        if token.isspace() or token == "~":
            return [(_SPACE, " ")]
        if token == "{":
            return [(_ATOM, _join(self._sequence("}")))]
        if token in "^_":
            table = t.SUPERSCRIPTS if token == "^" else t.SUBSCRIPTS
            return [(_SCRIPT, _script(self._argument(), table, token))]
        if token.startswith("\\"):
            return self._command(token.rstrip()[1:])
        if token in "}&#":
            raise _Unconvertible(token)
        return [(_ATOM, "′" if token == "'" else token)]

    def _command(self, name: str) -> list[tuple[str, str]]:
        simple = _simple_command(name)
        if simple is not None:
            return simple
        if name in t.IGNORED:
            if self._peek() == ".":  # \left. is an invisible delimiter
                self.pos += 1
            return []
        if name in t.ALPHABETS:
            letters = self._argument()
            table = t.ALPHABETS[name]
            if not letters or any(ch not in table for ch in letters):
                raise _Unconvertible(name)
            return [(_ATOM, "".join(table[ch] for ch in letters))]
        if name in t.PLAIN_FONTS:
            return [(_ATOM, self._argument())]
        if name == "operatorname":
            return [(_FN, self._argument())]
        if name in t.TEXT_COMMANDS:
            return [(_ATOM, _text_to_unicode(self._raw_group()))]
        return self._structure(name)

    def _structure(self, name: str) -> list[tuple[str, str]]:
        if name in ("frac", "tfrac", "dfrac"):
            top, bottom = self._argument(), self._argument()
            return [(_ATOM, f"{_wrap(top)}/{_wrap(bottom)}")]
        if name == "sqrt":
            return [(_ATOM, self._root())]
        if name in t.ACCENTS:
            base = self._argument()
            if len(base) != 1:
                raise _Unconvertible(name)
            return [(_ATOM, unicodedata.normalize("NFC", base + t.ACCENTS[name]))]
        raise _Unconvertible(name)

    def _root(self) -> str:
        sign = "√"
        if self._peek() == "[":
            self.pos += 1
            degree = _join(self._sequence("]"))
            sign = {"2": "√", "3": "∛", "4": "∜"}.get(degree, "")
            if not sign:
                raise _Unconvertible("root degree")
        return sign + _wrap(self._argument())

    def _argument(self) -> str:
        """The text of one argument: a braced group or a single token."""
        while (token := self._next()).isspace():
            pass
        if token == "{":
            return _join(self._sequence("}"))
        return _join(self._piece(token))

    def _raw_group(self) -> str:
        """The source of a braced group, as written (for text inside maths)."""
        if self._next().strip() != "{":
            raise _Unconvertible("text without braces")
        depth, raw = 1, list[str]()
        while True:
            token = self._next()
            depth += {"{": 1, "}": -1}.get(token, 0)
            if depth == 0:
                return "".join(raw)
            raw.append(token)


def _simple_command(name: str) -> list[tuple[str, str]] | None:
    """Commands that need no argument: a letter, a symbol, an operator, a space."""
    for table, kind in ((t.GREEK, _ATOM), (t.SYMBOLS, _ATOM), (t.OPERATORS, _OP)):
        if name in table:
            return [(kind, table[name])]
    if name in t.FUNCTIONS:
        return [(_FN, name)]
    if name in t.SPACES:
        return [(_SPACE, t.SPACES[name])]
    return None


def _script(text: str, table: dict[str, str], sign: str) -> str:
    """x² when Unicode has every glyph, else x^2 or x^(n+k) as a reader would type it."""
    compact = text.replace(" ", "")
    if compact and all(ch in table for ch in compact):
        return "".join(table[ch] for ch in compact)
    return f"{sign}{compact}" if len(compact) == 1 or compact.isalnum() else f"{sign}({text})"


def _wrap(text: str) -> str:
    """Parenthesised when more than one symbol, so a/b and √x stay unambiguous."""
    return text if len(text) == 1 or text.isalnum() else f"({text})"


def _join(pieces: list[tuple[str, str]]) -> str:
    """Pieces to text: operators between operands spaced, function names kept apart."""
    out = ""
    space_after_function = False
    for index, (kind, text) in enumerate(pieces):
        if kind == _OP:
            more = any(k != _SPACE for k, _ in pieces[index + 1 :])
            left = out.rstrip()
            out = f"{left} {text} " if left and more and left[-1] not in "([{" else out + text
        elif kind == _FN:
            out += (" " if out and (out[-1].isalnum() or out[-1] in ")]}") else "") + text
        elif kind == _SCRIPT:
            out += text
            continue  # log₂ n: a function's subscript keeps the space that follows it
        else:
            if space_after_function and text[:1].isalnum():
                out += " "
            out += text
        space_after_function = kind == _FN
    return re.sub(" {2,}", " ", out).strip()


# --- MathML for the site ------------------------------------------------------------------

_MATHML_NS = "{http://www.w3.org/1998/Math/MathML}"
_MATHML_ELEMENTS = frozenset(
    [
        "math",
        "mrow",
        "mi",
        "mn",
        "mo",
        "mtext",
        "mspace",
        "ms",
        "msup",
        "msub",
        "msubsup",
        "mfrac",
        "msqrt",
        "mroot",
        "mover",
        "munder",
        "munderover",
        "mstyle",
        "mtable",
        "mtr",
        "mtd",
        "mpadded",
        "mphantom",
        "menclose",
    ]
)
# No links, colours, styles or classes: only what lays the maths out.
_MATHML_ATTRIBUTES = frozenset(
    [
        "display",
        "stretchy",
        "mathvariant",
        "displaystyle",
        "scriptlevel",
        "fence",
        "separator",
        "lspace",
        "rspace",
        "accent",
        "accentunder",
        "movablelimits",
        "minsize",
        "maxsize",
        "columnalign",
        "rowalign",
        "columnspacing",
        "rowspacing",
        "columnlines",
        "rowlines",
        "linethickness",
        "width",
        "height",
        "depth",
        "symmetric",
        "largeop",
        "form",
        "notation",
        "align",
        "frame",
        "framespacing",
        "equalrows",
        "equalcolumns",
        "voffset",
    ]
)


def _mathml(source: str, original: str, display: bool) -> str:
    """MathML from latex2mathml, kept only if it passes the allow-list; else the TeX, escaped."""
    try:
        markup = latex_to_mathml(source, display="block" if display else "inline")
        root = etree.fromstring(markup, etree.XMLParser(resolve_entities=False, no_network=True))
    except Exception:
        return str(escape(original))
    if not all(_allowed(element) for element in root.iter()):
        return str(escape(original))
    return etree.tostring(root, encoding="unicode")


def _allowed(element: etree._Element) -> bool:
    tag = element.tag
    if not isinstance(tag, str) or not tag.startswith(_MATHML_NS):
        return False
    if tag.removeprefix(_MATHML_NS) not in _MATHML_ELEMENTS:
        return False
    if any(name not in _MATHML_ATTRIBUTES for name in element.attrib):
        return False
    # latex2mathml passes unknown commands through as text: show the TeX instead.
    return not (element.text or "").lstrip().startswith("\\")
