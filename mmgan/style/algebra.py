"""Prompt algebra: ``"techno - monotonous + jazz harmony"``, ``"0.7*jazz + 0.3*metal"``.

Grammar (informal)::

    prompt  := [sign] term (op term)*
    op      := " + " | " - "  (whitespace on both sides)  |  "−" (U+2212, anywhere)
             | "+" or "-" directly followed by a weight, as in "0.7*jazz+0.3*metal"
    term    := [sign] [weight ("*" | "·" | "×")] phrase
    sign    := "+" | "-" | "−" glued to the term ("a + -0.5*b"), or any sign that
               starts the prompt ("- monotonous + techno")
    weight  := a plain decimal number: "2", "0.7", ".5", "3." (no exponent, no sign)
    phrase  := any text; "double quoted" (or “curly quoted”) parts are literal

Decisions:

* A hyphen or plus inside a word is text: "lo-fi hip-hop", "drum-and-bass", "c++"
  and "jazz -metal" (space on one side only) are each one phrase.
* "2x" or "90s" is text, not a weight: a weight needs an explicit ``*``/``·``/``×``.
* Repeated phrases are combined ("jazz + jazz" is ``2·jazz``) and zero weights
  dropped; if nothing is left ("jazz - jazz", "0*jazz") -> ValueError.
* The weights need not sum to 1 or to anything non-zero: "jazz - metal" is the
  direction from metal to jazz. :func:`evaluate` L2-normalises the result.
* At most :data:`MAX_TERMS` terms and :data:`MAX_CHARS` characters; long phrases
  are left to the text encoder, which truncates them with a warning.

>>> parse("techno - monotonous + jazz harmony").normal_form()
'techno − monotonous + jazz harmony'
>>> parse("0.7*jazz+0.3*metal").normal_form()
'0.7·jazz + 0.3·metal'
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

import torch

MAX_TERMS = 100
MAX_CHARS = 100_000

_MINUS = "−"  # U+2212, always an operator outside quotes
_SIGNS = {"+": 1.0, "-": -1.0, "–": -1.0, _MINUS: -1.0}  # "–" is an en dash
_MUL = "*·×"
_QUOTES = {'"': '"', "“": "”"}
_NUMBER = re.compile(r"(?:\d+\.?\d*|\.\d+)")
_WEIGHT_AHEAD = re.compile(r"(?:[+\-−]\s*|\s*)(?:\d+\.?\d*|\.\d+)\s*[*·×]")
_WS = re.compile(r"\s+")


@dataclass(frozen=True)
class Term:
    """One weighted phrase of an expression (``weight * encode(text)``)."""

    weight: float
    text: str


@dataclass(frozen=True)
class Expression:
    """A parsed prompt: distinct phrases with non-zero weights, in first-seen order."""

    terms: tuple[Term, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "terms", tuple(self.terms))

    @property
    def phrases(self) -> list[str]:
        return [t.text for t in self.terms]

    def normal_form(self) -> str:
        """A readable canonical string that :func:`parse` maps back to the same terms.

        ``"techno − monotonous + jazz harmony"``, ``"0.7·jazz + 0.3·metal"``,
        ``"−monotonous + techno"``; phrases that would not re-parse as themselves
        (``"rock - n - roll"``) are double-quoted.
        """
        parts = []
        for i, term in enumerate(self.terms):
            coef = "" if abs(term.weight) == 1.0 else _format_weight(abs(term.weight)) + "·"
            body = coef + _quote_if_needed(term.text)
            if i == 0:
                parts.append((_MINUS if term.weight < 0 else "") + body)
            else:
                parts.append((" − " if term.weight < 0 else " + ") + body)
        return "".join(parts)

    def __str__(self) -> str:
        return self.normal_form()


def parse(prompt: str) -> Expression:
    """Parse a prompt into an :class:`Expression` (see the module docstring for the grammar).

    Raises:
        ValueError: empty input, a dangling operator, an empty term, unbalanced quotes,
            a malformed weight, too many terms, or every weight zero; the message names
            the position (0-based character index) and shows where.
    """
    if not isinstance(prompt, str):
        raise TypeError(f"a prompt must be a str, got {type(prompt).__name__}")
    if len(prompt) > MAX_CHARS:
        raise ValueError(
            f"prompt too long: {len(prompt)} characters (at most {MAX_CHARS}); shorten it"
        )
    if not prompt.strip():
        raise ValueError(
            "empty prompt: type a description such as 'dreamy folk' or an expression "
            "such as 'techno - monotonous + jazz harmony'"
        )
    raw = _split(prompt)
    if len(raw) > MAX_TERMS:
        raise ValueError(f"too many terms: {len(raw)} (at most {MAX_TERMS}); simplify the prompt")
    merged: dict[str, float] = {}
    for sign, pieces in raw:
        weight, text = _parse_term(prompt, pieces)
        merged[text] = merged.get(text, 0.0) + sign * weight
    # 12 significant digits: 0.1*x + 0.2*x is 0.3·x, not 0.30000000000000004·x
    terms = tuple(Term(float(f"{w:.12g}"), t) for t, w in merged.items() if float(f"{w:.12g}"))
    if not terms:
        raise ValueError(
            f"zero total weight in {_clip(prompt)!r}: every term has weight 0 after combining "
            "repeated phrases, so there is nothing to encode"
        )
    return Expression(terms)


def evaluate(
    expr: Expression | str,
    encode: Callable[[list[str]], torch.Tensor],
) -> torch.Tensor:
    """The style vector of an expression: ``normalize(sum_i w_i * normalize(encode(t_i)))``.

    Args:
        expr: an :class:`Expression` or a prompt string (parsed first).
        encode: ``list[str] -> Tensor[B, D]``; called once with the distinct phrases.

    Returns:
        ``Tensor[D]`` float32, L2-normalised.

    Raises:
        ValueError: the encoder returned the wrong shape, or the weighted sum is (almost)
            the zero vector (the terms cancel out).
    """
    if isinstance(expr, str):
        expr = parse(expr)
    phrases = expr.phrases
    vecs = torch.as_tensor(encode(phrases)).detach().to("cpu", torch.float32)
    if vecs.ndim != 2 or vecs.shape[0] != len(phrases):
        raise ValueError(
            f"encode returned shape {tuple(vecs.shape)} for {len(phrases)} phrases; expected [B, D]"
        )
    vecs = vecs / vecs.norm(dim=1, keepdim=True).clamp_min(1e-12)  # [B, D]
    weights = torch.tensor([t.weight for t in expr.terms], dtype=torch.float32)  # [B]
    out = weights @ vecs  # [D]
    norm = float(out.norm())
    if not math.isfinite(norm) or norm < 1e-6 * float(weights.abs().sum()):
        raise ValueError(
            f"the terms of {expr.normal_form()!r} cancel out to (almost) the zero vector; "
            "change a weight or a phrase"
        )
    return out / norm


# --- tokenising ------------------------------------------------------------------------------

_Piece = tuple[str, bool, int]  # (text, quoted, position)


def _split(prompt: str) -> list[tuple[float, list[_Piece]]]:
    """Split at operators (outside quotes) into (sign, pieces) terms."""
    n = len(prompt)
    terms: list[tuple[float, list[_Piece]]] = []
    sign, op_pos, op_char = 1.0, -1, ""
    pieces: list[_Piece] = []
    content = False
    i = 0
    while i < n:
        ch = prompt[i]
        if ch in _QUOTES:
            j = prompt.find(_QUOTES[ch], i + 1)
            if j < 0:
                raise _error(prompt, i, f"unbalanced quote {ch!r}: add the closing {_QUOTES[ch]!r}")
            pieces.append((prompt[i + 1 : j], True, i))
            content, i = True, j + 1
            continue
        if ch in _QUOTES.values():
            raise _error(prompt, i, f"closing quote {ch!r} without an opening one")
        if ch in _SIGNS and not content and (not terms or _glued(prompt, i)):
            sign *= _SIGNS[ch]  # a sign that starts the prompt or is glued to its term
            if op_pos < 0:
                op_pos, op_char = i, ch
        elif ch in _SIGNS and _is_operator(prompt, i):
            if not content:
                raise _error(
                    prompt,
                    i,
                    f"empty term between {op_char!r} at position {op_pos} and {ch!r} "
                    f"at position {i}: put a phrase between the operators",
                )
            terms.append((sign, pieces))
            sign, op_pos, op_char, pieces, content = _SIGNS[ch], i, ch, [], False
        else:
            pieces.append((ch, False, i))
            content = content or not ch.isspace()
        i += 1
    if not content:
        raise _error(
            prompt, op_pos, f"dangling operator {op_char!r}: nothing follows it; add a phrase"
        )
    terms.append((sign, pieces))
    return terms


def _glued(prompt: str, i: int) -> bool:
    return i + 1 < len(prompt) and not prompt[i + 1].isspace()


def _is_operator(prompt: str, i: int) -> bool:
    """Is the sign at ``prompt[i]`` (outside quotes, inside or after a term) an operator?"""
    if prompt[i] == _MINUS:
        return True
    left = i == 0 or prompt[i - 1].isspace()
    right = i + 1 == len(prompt) or prompt[i + 1].isspace()
    return (left and right) or _WEIGHT_AHEAD.match(prompt, i + 1) is not None


def _parse_term(prompt: str, pieces: list[_Piece]) -> tuple[float, str]:
    """(weight, phrase) of one term's pieces."""
    muls = [(k, pos) for k, (ch, q, pos) in enumerate(pieces) if not q and ch in _MUL]
    weight, body = 1.0, pieces
    if muls:
        k, pos = muls[0]
        if len(muls) > 1:
            raise _error(
                prompt,
                muls[1][1],
                f"a second {pieces[muls[1][0]][0]!r} in one term: write one weight per "
                'phrase, e.g. 0.7*jazz, or quote a literal "*"',
            )
        left, body = pieces[:k], pieces[k + 1 :]
        token = "".join(t for t, _, _ in left).strip()
        start = next((p for t, _, p in left if not t.isspace()), pos)
        if not token:
            raise _error(
                prompt,
                pos,
                f"missing weight before {pieces[k][0]!r}: write a number first, e.g. 0.7*jazz",
            )
        if any(q for _, q, _ in left) or not _NUMBER.fullmatch(token):
            raise _error(
                prompt,
                start,
                f"bad weight {token!r}: a weight is a plain decimal number such as 0.7 "
                f"written before '*', e.g. 0.7*jazz",
            )
        weight = float(token)
        if not math.isfinite(weight):
            raise _error(prompt, start, f"weight {_clip(token, 20)!r} is too large")
    text = _WS.sub(" ", "".join(t for t, _, _ in body)).strip()
    if not text:
        at = muls[0][1] if muls else next((p for _, q, p in body if q), pieces[0][2])
        if muls:
            raise _error(
                prompt,
                at,
                f"nothing after {pieces[muls[0][0]][0]!r}: write a phrase, e.g. 0.7*jazz",
            )
        raise _error(prompt, at, "empty phrase: put some words between the quotes")
    return weight, text


# --- formatting ------------------------------------------------------------------------------


def _format_weight(w: float) -> str:
    """Shortest positional decimal that round-trips: 0.7, 2, 0.00001 (never an exponent)."""
    s = format(Decimal(repr(float(w))), "f")
    return s.rstrip("0").rstrip(".") if "." in s else s


def _quote_if_needed(text: str) -> str:
    try:
        bare = _split(text)
        ok = len(bare) == 1 and bare[0][0] == 1.0 and _parse_term(text, bare[0][1]) == (1.0, text)
    except ValueError:
        ok = False
    if ok:
        return text
    # straight quotes, switching to “curly” ones for runs that contain a straight quote
    runs: list[tuple[str, str]] = []  # (opening quote, text)
    for ch in text:
        need = "“" if ch == '"' else '"' if ch == "”" else None
        if runs and (need is None or need == runs[-1][0]):
            runs[-1] = (runs[-1][0], runs[-1][1] + ch)
        else:
            runs.append((need or '"', ch))
    return "".join(q + t + _QUOTES[q] for q, t in runs)


def _clip(s: str, n: int = 60) -> str:
    return s if len(s) <= n else s[: n - 1] + "…"


def _error(prompt: str, pos: int, message: str) -> ValueError:
    """A ValueError naming the position, with the prompt and a caret under the spot."""
    pos = max(0, min(pos, len(prompt)))
    lo = max(0, pos - 30)
    snippet = prompt[lo : pos + 30].replace("\n", " ").replace("\t", " ")
    prefix = "…" if lo else ""
    caret = " " * (len(prefix) + pos - lo) + "^"
    return ValueError(f"{message} (at position {pos})\n  {prefix}{snippet}\n  {caret}")


#: Alias used by :class:`mmgan.style.space.StyleSpace`.
parse_expression = parse
