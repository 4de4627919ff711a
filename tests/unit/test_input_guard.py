"""What the Rasa server refuses to answer as written (nlu/input_guard.py), without servers."""

from __future__ import annotations

import pytest

from nlu.input_guard import input_problem, looks_non_english

VOCABULARY = {
    "how",
    "long",
    "until",
    "can",
    "go",
    "home",
    "will",
    "it",
    "hurt",
    "after",
    "op",
    "eat",
    "surgery",
    "what",
    "is",
    "a",
    "dural",
    "tear",
    "the",
    "recovery",
    "time",
}


def problem(text: str):
    return input_problem(text, VOCABULARY, max_chars=1000, min_known_share=0.5)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("", "empty_message"),
        ("   \n\t ", "empty_message"),
        ("x" * 1001, "message_too_long"),
        ("🙂🙏❤️", "no_words"),
        ("??? !!! 123", "no_words"),
        ('<img src="x" onerror="alert(1)">', "markup"),
        ("<script>alert(1)</script>", "markup"),
        ("what is a dural tear <b>now</b>", "markup"),
        ("{{7*7}}", "markup"),
        ("javascript:alert(document.cookie)", "markup"),
        ("¿Cuánto tiempo tardaré en recuperarme de la operación?", "not_english"),
        ("Wie lange muss ich nach der Operation im Krankenhaus bleiben?", "not_english"),
        ("Combien de temps dure la convalescence après l'opération ?", "not_english"),
        ("手术后我需要住院多久？", "not_english"),
        ("Сколько длится восстановление после операции?", "not_english"),
        ("asdf qwerty zxcv", "not_understood"),
        ("xkq vvbn plok", "not_understood"),
    ],
)
def test_unanswerable_input(text, expected):
    assert problem(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "how long until I can go home?",
        "will it hurt after the op?",
        "can i eat b4 surgery",
        "recovery time?",
        "what is a dural tear",
        "is 3 < 4 after surgery?",
    ],
)
def test_ordinary_questions_pass(text):
    assert problem(text) is None


@pytest.mark.parametrize(
    "text",
    [
        "will it hurt after the op?",
        "can i eat b4 surgery",
        "hi 🙂",
        "is sciatica treated this way?",
        "what about la operación",
    ],
)
def test_english_questions_are_not_mistaken_for_another_language(text):
    assert not looks_non_english(text)


def test_without_a_vocabulary_nothing_is_called_gibberish():
    assert input_problem("asdf qwerty zxcv", set(), 1000, 0.5) is None
