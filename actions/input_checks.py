"""Recognise messages that cannot be answered as written: empty, too long, no words, not English.

Each problem maps to a domain response that tells the patient what to do instead.
"""
from __future__ import annotations

import re
import unicodedata
from typing import Optional, Text

from spacy.lang.de.stop_words import STOP_WORDS as GERMAN
from spacy.lang.en.stop_words import STOP_WORDS as ENGLISH
from spacy.lang.es.stop_words import STOP_WORDS as SPANISH
from spacy.lang.fr.stop_words import STOP_WORDS as FRENCH
from spacy.lang.it.stop_words import STOP_WORDS as ITALIAN
from spacy.lang.nl.stop_words import STOP_WORDS as DUTCH
from spacy.lang.pt.stop_words import STOP_WORDS as PORTUGUESE

from actions.settings import MAX_MESSAGE_CHARS

# Function words that are common in other languages patients write in and are not English words
# too ("die", "a", "no" are both, so they are left out).
_OTHER_LANGUAGE_WORDS = (GERMAN | SPANISH | FRENCH | ITALIAN | DUTCH | PORTUGUESE) - ENGLISH
_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)


def _is_latin_letter(char: Text) -> bool:
    return unicodedata.name(char, "").startswith("LATIN")


def looks_non_english(text: Text) -> bool:
    """True when the words are mostly in another script, or use another language's function words."""
    words = _WORD.findall(text.lower())
    letters = [c for word in words for c in word]
    if not letters:
        return False
    if sum(_is_latin_letter(c) for c in letters) < 0.5 * len(letters):
        return True
    english = sum(w in ENGLISH for w in words)
    other = sum(w in _OTHER_LANGUAGE_WORDS for w in words)
    return other >= 2 and other > english


def input_problem(text: Optional[Text]) -> Optional[Text]:
    """The response to send instead of an answer, or None when the message can be answered."""
    text = (text or "").strip()
    if not text:
        return "utter_empty_message"
    if len(text) > MAX_MESSAGE_CHARS:
        return "utter_message_too_long"
    if not _WORD.search(text):
        return "utter_no_words"
    if looks_non_english(text):
        return "utter_not_english"
    return None
