"""Prompt algebra: grammar, error messages, normal form round-trips, evaluate linearity."""

from __future__ import annotations

import pytest
import torch
from _fakes import fake_encoder
from hypothesis import given, settings
from hypothesis import strategies as st

from mmgan.style.algebra import MAX_CHARS, MAX_TERMS, Expression, Term, evaluate, parse

D = 32


fake_encode = fake_encoder(D)


def terms(expr: Expression) -> list[tuple[float, str]]:
    return [(t.weight, t.text) for t in expr.terms]


@pytest.mark.parametrize(
    ("prompt", "expected"),
    [
        ("dreamy folk with a bit of swing", [(1.0, "dreamy folk with a bit of swing")]),
        (
            "techno - monotonous + jazz harmony",
            [(1.0, "techno"), (-1.0, "monotonous"), (1.0, "jazz harmony")],
        ),
        ("0.7*jazz + 0.3*metal", [(0.7, "jazz"), (0.3, "metal")]),
        ("0.7 * jazz + 0.3 * metal", [(0.7, "jazz"), (0.3, "metal")]),
        ("0.7*jazz+0.3*metal", [(0.7, "jazz"), (0.3, "metal")]),
        ("0.7·jazz − .5×metal", [(0.7, "jazz"), (-0.5, "metal")]),
        ("lo-fi hip-hop", [(1.0, "lo-fi hip-hop")]),
        ("drum-and-bass + c++", [(1.0, "drum-and-bass"), (1.0, "c++")]),
        ("jazz -metal", [(1.0, "jazz -metal")]),  # space on one side only: text
        ("2x + 90s", [(1.0, "2x"), (1.0, "90s")]),  # no '*': numbers are text
        ('"rock - n - roll" + jazz', [(1.0, "rock - n - roll"), (1.0, "jazz")]),
        ("“curly + quoted” − x", [(1.0, "curly + quoted"), (-1.0, "x")]),
        ('0.5*"a*b"', [(0.5, "a*b")]),
        ("techno − jazz", [(1.0, "techno"), (-1.0, "jazz")]),
        ("techno−jazz", [(1.0, "techno"), (-1.0, "jazz")]),  # unicode minus: always an operator
        ("- monotonous + techno", [(-1.0, "monotonous"), (1.0, "techno")]),
        ("-monotonous + techno", [(-1.0, "monotonous"), (1.0, "techno")]),
        ("-0.5*x + y", [(-0.5, "x"), (1.0, "y")]),
        ("a + -0.5*b", [(1.0, "a"), (-0.5, "b")]),
        ("a - -b", [(1.0, "a"), (1.0, "b")]),
        ("jazz + jazz - metal", [(2.0, "jazz"), (-1.0, "metal")]),
        ("0.1*x + 0.2*x", [(0.3, "x")]),
        ("0*jazz + techno", [(1.0, "techno")]),
        ("jazz - metal", [(1.0, "jazz"), (-1.0, "metal")]),  # zero sum is a direction
        ("  a \t-\n b  ", [(1.0, "a"), (-1.0, "b")]),
        ("big   band\tswing", [(1.0, "big band swing")]),
    ],
)
def test_parse_examples(prompt, expected):
    assert terms(parse(prompt)) == expected


@pytest.mark.parametrize(
    ("prompt", "normal"),
    [
        ("techno - monotonous + jazz harmony", "techno − monotonous + jazz harmony"),
        ("0.7*jazz+0.3*metal", "0.7·jazz + 0.3·metal"),
        ("- monotonous + techno", "−monotonous + techno"),
        ('"rock - n - roll" + jazz', '"rock - n - roll" + jazz'),
        ('"-b" + 2*"c +"', '"-b" + 2·"c +"'),
        ("0.00001*x", "0.00001·x"),
        ("jazz + jazz", "2·jazz"),
    ],
)
def test_normal_form_examples(prompt, normal):
    expr = parse(prompt)
    assert expr.normal_form() == normal == str(expr)
    assert parse(normal) == expr


@pytest.mark.parametrize(
    ("prompt", "message", "position"),
    [
        ("", "empty prompt", None),
        (" \t\n", "empty prompt", None),
        ("techno -", "dangling operator '-'", 7),
        ("+ jazz +", "dangling operator '+'", 7),
        ("-", "dangling operator '-'", 0),
        ("a + - b", "empty term between '+' at position 2 and '-' at position 4", 4),
        ("a -  + b", "empty term between '-'", 5),
        ('"rock - n + jazz', "unbalanced quote", 0),
        ("jazz ” x", "closing quote", 5),
        ('"" + jazz', "empty phrase", 0),
        ("0.7*", "nothing after '*'", 3),
        ("jazz + 0.7*  ", "nothing after '*'", 10),
        ("*jazz", "missing weight before '*'", 0),
        ("0..7*jazz", "bad weight '0..7'", 0),
        ("abc*jazz", "bad weight 'abc'", 0),
        ("x + 1e3*jazz", "bad weight '1e3'", 4),
        ("0.5*0.5*jazz", "a second '*'", 7),
        ("jazz - jazz", "zero total weight", None),
        ("0*jazz", "zero total weight", None),
        ("1" * 400 + "*jazz", "too large", 0),
    ],
)
def test_parse_errors(prompt, message, position):
    with pytest.raises(ValueError) as info:
        parse(prompt)
    text = str(info.value)
    assert message in text
    if position is not None:
        assert f"(at position {position})" in text
        caret_line = text.splitlines()[-1]
        snippet_line = text.splitlines()[-2]
        assert len(caret_line) - len(caret_line.lstrip()) == 2 + position  # caret under it
        assert snippet_line.strip()


def test_long_prompt_is_one_term():
    prompt = ("dreamy lo-fi hip-hop with rhodes chords " * 300)[:10_000]
    expr = parse(prompt)
    assert len(expr.terms) == 1 and expr.terms[0].weight == 1.0
    assert len(expr.terms[0].text) > 9_900


def test_limits():
    with pytest.raises(ValueError, match="prompt too long"):
        parse("a" * (MAX_CHARS + 1))
    assert len(parse(" + ".join(f"w{i}" for i in range(MAX_TERMS))).terms) == MAX_TERMS
    with pytest.raises(ValueError, match="too many terms"):
        parse(" + ".join(f"w{i}" for i in range(MAX_TERMS + 1)))


# --- properties ------------------------------------------------------------------------------

WORD = st.sampled_from(
    ["lo-fi", "hip-hop", "drum-and-bass", "c++", "jazz", "metal", "post-rock", "r&b", "x-3", "a+b"]
)
PHRASE = st.lists(WORD, min_size=1, max_size=3).map(" ".join)
WEIGHT = st.integers(min_value=1, max_value=999).map(lambda n: n / 100)
SPACE = st.sampled_from([" ", "  ", "\t", " \n ", "\u00a0"])
OP = st.sampled_from([("+", 1.0), ("-", -1.0), ("−", -1.0)])


@st.composite
def expressions(draw):
    """A random prompt and the (sign * weight, phrase) terms it must parse to."""
    n = draw(st.integers(min_value=1, max_value=5))
    prompt, expected = "", []
    for i in range(n):
        phrase = draw(PHRASE)
        weight = draw(st.none() | WEIGHT)
        sign = 1.0
        if i > 0 or draw(st.booleans()):
            op, sign = draw(OP)
            prompt += draw(SPACE) + op + draw(SPACE) if i > 0 else op + draw(SPACE)
        body = (
            phrase
            if weight is None
            else f"{weight}{draw(SPACE) if draw(st.booleans()) else ''}*{phrase}"
        )
        prompt += body
        expected.append((sign * (1.0 if weight is None else weight), phrase))
    return prompt, expected


def merged(expected):
    out: dict[str, float] = {}
    for w, t in expected:
        out[t] = out.get(t, 0.0) + w
    return {t: w for t, w in out.items() if abs(w) > 1e-9}


@settings(max_examples=300, deadline=None)
@given(expressions())
def test_random_expressions_parse_and_round_trip(case):
    prompt, expected = case
    want = merged(expected)
    if not want:
        with pytest.raises(ValueError, match="zero total weight"):
            parse(prompt)
        return
    expr = parse(prompt)
    got = {t.text: t.weight for t in expr.terms}
    assert got.keys() == want.keys()  # hyphenated words never split, whitespace ignored
    assert all(abs(got[k] - want[k]) < 1e-9 for k in want)
    assert parse(expr.normal_form()) == expr


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(list('ab -+−*·."“” 0.7\t')), max_size=30))
def test_any_text_parses_or_raises_value_error(prompt):
    try:
        expr = parse(prompt)
    except ValueError as err:
        assert str(err)
        return
    assert expr.terms and all(t.text and t.weight != 0 for t in expr.terms)
    assert parse(expr.normal_form()) == expr


@settings(max_examples=100, deadline=None)
@given(PHRASE)
def test_single_hyphenated_phrase_is_one_term(phrase):
    assert terms(parse(phrase)) == [(1.0, phrase)]


# --- evaluate --------------------------------------------------------------------------------


def test_evaluate_is_the_normalised_weighted_sum():
    a, b, c = fake_encode(["techno", "monotonous", "jazz harmony"])
    want = a - b + c
    got = evaluate(parse("techno - monotonous + jazz harmony"), fake_encode)
    assert got.shape == (D,)
    assert torch.allclose(got, want / want.norm(), atol=1e-6)
    assert torch.allclose(got.norm(), torch.tensor(1.0), atol=1e-6)
    # weights scale the terms; a str is parsed first
    got = evaluate("0.7*techno + 0.3*jazz harmony", fake_encode)
    want = 0.7 * a + 0.3 * c
    assert torch.allclose(got, want / want.norm(), atol=1e-6)
    # overall scale does not matter
    assert torch.allclose(evaluate("2*a - 2*b", fake_encode), evaluate("a - b", fake_encode))


def test_evaluate_encodes_each_distinct_phrase_once():
    calls = []

    def encode(texts):
        calls.append(list(texts))
        return 3.0 * fake_encode(texts)  # rows are normalised inside evaluate

    v = evaluate("jazz + metal + jazz - 0.5*techno", encode)
    assert calls == [["jazz", "metal", "techno"]]
    j, m, t = fake_encode(["jazz", "metal", "techno"])
    want = 2 * j + m - 0.5 * t
    assert torch.allclose(v, want / want.norm(), atol=1e-6)


def test_evaluate_errors():
    same = Expression([Term(1.0, "a"), Term(-1.0, "b")])
    with pytest.raises(ValueError, match="cancel out"):
        evaluate(same, lambda texts: torch.ones(len(texts), D))
    with pytest.raises(ValueError, match="expected \\[B, D\\]"):
        evaluate("a + b", lambda texts: torch.ones(1, D))
