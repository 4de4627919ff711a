"""What could identify a patient, taken out of a question before the review queue keeps it
(stores/review_queue.py), each part replaced by what it was: "[name]", "[phone]", "[email]",
"[date]", "[postcode]", "[address]", "[id]", "[number]". The question stays readable for the
curators: spine levels (L4-L5), durations and symptoms are kept.

Kept libraries where they know more than a pattern could: phone numbers in any national or
international format by `phonenumbers` (Google's libphonenumber data); person names from the
first- and last-name lists Faker ships for its Latin-script locales (about 20,000 and 19,000),
less the common English words of Faker's own word list (so "Will I ...", "in May", "Hope ..."
stay). Patterns for the rest. Presidio and scrubadub were considered: both find names with a
named-entity model (spaCy's or TextBlob's) that cannot be installed here (our spaCy pipeline is
built from files, without one), and Presidio's URL and email checks fetch a suffix list at run
time. tests/unit/test_redaction.py measures it on tests/data/redaction_sentences.yml.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from functools import cache
from typing import FrozenSet, Iterable, List, Tuple

import phonenumbers
from faker.providers import person
from faker.providers.lorem.en_US import Provider as EnglishWords

_MONTHS = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|"
    r"sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)"
)
_TLD = r"(?:com|org|net|edu|gov|co|uk|ie|in|au|ca|de|fr|es|it|nl|info|me|io)"
_SPOKEN_DOT = r"(?:\s+dot\s+|\s*[(\[]dot[)\]]\s*)"
_STREET_TYPES = (
    r"(?:street|st|road|rd|lane|ln|avenue|ave|drive|close|way|court|ct|place|pl|crescent|cres|"
    r"terrace|grove|gardens|gdns|park|hill|square|sq|boulevard|blvd|row|mews)"
)
_LEAD_STREET_TYPES = r"(?:rue|via|calle|avenida|chemin|strada|rua)"
PHONE_REGIONS = ("GB", "US", "IE", "IN", "AU", "CA")
MIN_PHONE_DIGITS = 7  # the shortest phone number libphonenumber finds here has 7 digits

# (pattern, replacement), in this order: emails before numbers, dates and postcodes before ids.
_PATTERNS: List[Tuple[re.Pattern, str]] = [
    (re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+"), "[email]"),
    (  # spoken: "jane dot doe at gmail dot com", "j_smith (at) hotmail (dot) com"
        re.compile(
            rf"\b[\w.+-]+(?:{_SPOKEN_DOT}[\w+-]+)*(?:\s+at\s+|\s*[(\[]at[)\]]\s*)[\w-]+"
            rf"(?:(?:{_SPOKEN_DOT}|\.)[\w-]+)*{_SPOKEN_DOT}{_TLD}\b",
            re.I,
        ),
        "[email]",
    ),
    (re.compile(r"\b\d{4}-\d{1,2}-\d{1,2}\b"), "[date]"),
    (re.compile(r"\b\d{1,2}[/.-]\d{1,2}[/.-]\d{2,4}\b"), "[date]"),
    (re.compile(rf"\b\d{{1,2}}(?:st|nd|rd|th)?\s+(?:of\s+)?{_MONTHS}\b,?(?:\s+\d{{2,4}})?", re.I), "[date]"),
    (re.compile(rf"\b{_MONTHS}\s+\d{{1,2}}(?:st|nd|rd|th)?\b,?(?:\s+\d{{2,4}})?", re.I), "[date]"),
    (re.compile(rf"\b{_MONTHS}\s+(?:19|20)\d{{2}}\b", re.I), "[date]"),
    (  # a year of birth: "born 1938", "dob 61"
        re.compile(r"\b(born|dob|d\.o\.b\.?)(\s+(?:in|on))?\s+(?:19|20)?\d{2}\b", re.I),
        r"\1\2 [date]",
    ),
    (re.compile(r"\b[A-Z]{1,2}\d[A-Z\d]?\s*\d[A-Z]{2}\b", re.I), "[postcode]"),
    # UK National Insurance numbers: QQ 12 34 56 C
    (re.compile(r"\b[A-Z]{2}\s?\d{2}\s?\d{2}\s?\d{2}\s?[A-D]\b", re.I), "[id]"),
    # record numbers with letters: AB123456, ZX9921KQ, RX4 55 21 (not spine levels: L4, L5-S1, C5
    # C6; not "covid19": three digits at least)
    (re.compile(r"\b(?=(?:[A-Z]*\d){3})(?=[A-Z0-9]*[A-Z])[A-Z0-9]{6,}\b", re.I), "[id]"),
    (re.compile(r"\b[A-Z]{1,3}\d{1,3}(?:\s\d{2,4}){2,}\b", re.I), "[id]"),
    (re.compile(r"\b(?:flat|apartment|apt|unit|suite)\s*\d+[A-Z]?\b", re.I), "[address]"),
    (re.compile(r"\bP\.?\s?O\.?\s+Box\s+\d+\b", re.I), "[address]"),
    (
        re.compile(rf"\b\d{{1,4}}[A-Z]?,?\s+{_LEAD_STREET_TYPES}(?:\s+[^\W\d_][\w'’-]*){{1,4}}", re.I),
        "[address]",
    ),
]
# "12 Baker Street", "15 High St", "3 meadow close": a house number, up to three words, a street
# type (_common_words keeps "3 weeks on the way").
_STREET = re.compile(rf"\b\d{{1,4}}[A-Z]?\s+((?:[^\W\d_][\w'’-]*\s+){{1,3}}){_STREET_TYPES}\b\.?", re.I)
_DIGIT_RUNS = [  # any other long run of digits: hospital numbers, NHS numbers, phone numbers
    (re.compile(r"\+?\d[\d\s().-]{6,}\d"), "[number]"),
    (re.compile(r"\b\d{5,}\b"), "[number]"),
]

_WORD = re.compile(r"[^\W\d_](?:[^\W\d_]|['’-](?=[^\W\d_]))*")
_TITLES = frozenset(
    [
        "dr",
        "doctor",
        "mr",
        "mrs",
        "ms",
        "miss",
        "mx",
        "prof",
        "professor",
        "nurse",
        "sister",
        "matron",
        "consultant",
        "surgeon",
    ]
)
_PARTICLES = frozenset(
    [
        "van",
        "der",
        "den",
        "de",
        "del",
        "della",
        "di",
        "da",
        "du",
        "la",
        "le",
        "von",
        "st",
        "bin",
        "ibn",
        "al",
        "el",
        "o",
        "mac",
    ]
)
_RELATIONS = (
    r"(?:wife|husband|partner|son|daughter|mum|mom|mother|father|dad|brother|sister|aunt|uncle|"
    r"grandson|granddaughter|grandmother|grandfather|nan|gran|friend|carer|neighbour|neighbor|"
    r"brother-in-law|sister-in-law|son-in-law|daughter-in-law|mother-in-law|father-in-law)"
)
# After these, the next words are a name when they look like one.
_TRIGGERS = re.compile(
    rf"(?:\bmy name is|\bmy name's|\bname is|\bname:|\bi am|\bi'm|\bi’m|\bim|\bthis is|\bit's|\bit’s|"
    r"\bits|\bcall me|\bsigned|\bregards,?|\bthanks,?|\bthank you,?|\bcheers,?|\bfrom:|"
    rf"\bmy {_RELATIONS},?)\s+$",
    re.I,
)
# Capitalised, these are still no name after a trigger ("I'm Not sure", "It's Tuesday").
_NEVER_NAMES = frozenset(
    [
        "not",
        "so",
        "very",
        "really",
        "just",
        "also",
        "still",
        "a",
        "an",
        "the",
        "in",
        "on",
        "at",
        "to",
        "of",
        "for",
        "and",
        "or",
        "but",
        "if",
        "is",
        "was",
        "am",
        "are",
        "be",
        "said",
        "says",
        "told",
        "tells",
        "asked",
        "asks",
        "thinks",
        "thought",
        "wants",
        "wanted",
        "recommended",
        "suggested",
        "about",
        "who",
        "would",
        "can",
        "could",
        "should",
        "will",
        "visit",
        "appointment",
        "office",
        "before",
        "after",
        "with",
        "when",
        "that",
        "what",
        "how",
        "here",
        "there",
        "this",
        "that",
        "it",
        "its",
        "all",
        "well",
        "fine",
        "ok",
        "okay",
        "sorry",
        "new",
        "back",
        "home",
        "going",
        "having",
        "trying",
        "monday",
        "tuesday",
        "wednesday",
        "thursday",
        "friday",
        "saturday",
        "sunday",
        "january",
        "february",
        "march",
        "april",
        "may",
        "june",
        "july",
        "august",
        "september",
        "october",
        "november",
        "december",
    ]
)
# Our own words that the lists hold as names (a patient's body and care, not a person).
_DOMAIN_WORDS = frozenset(
    [
        "pain",
        "leg",
        "legs",
        "back",
        "neck",
        "head",
        "spine",
        "disc",
        "nerve",
        "wound",
        "doctor",
        "nurse",
        "surgeon",
        "hospital",
        "clinic",
    ]
)


@cache
def _names() -> Tuple[FrozenSet[str], FrozenSet[str], FrozenSet[str]]:
    """First names, last names (lower case, Latin script), and the common English words that
    are no name on their own."""
    first: set = set()
    last: set = set()
    for module in pkgutil.iter_modules(person.__path__):
        provider = importlib.import_module(f"{person.__name__}.{module.name}").Provider
        for attribute, into in (
            ("first_names", first),
            ("first_names_male", first),
            ("first_names_female", first),
            ("last_names", last),
        ):
            values = getattr(provider, attribute, None)
            if isinstance(values, (dict, list, tuple, set, frozenset)):
                into.update(str(v).lower() for v in values if _latin(str(v)))
    common = frozenset(w.lower() for w in EnglishWords.word_list) | _NEVER_NAMES | _DOMAIN_WORDS
    return frozenset(first), frozenset(last), common


def _latin(name: str) -> bool:
    return all(c.isalpha() and ord(c) < 0x250 or c in "'’- " for c in name) and bool(name.strip())


def _is_capitalised(word: str) -> bool:
    return word[:1].isupper() and not word.isupper() or (len(word) > 1 and word.istitle())


def redact(text: str) -> str:
    """The text with what could identify a patient replaced."""
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    text = _STREET.sub(lambda m: m.group(0) if _common_words(m.group(1)) else "[address]", text)
    text = _replace_phones(text)
    for pattern, replacement in _DIGIT_RUNS:
        text = pattern.sub(replacement, text)
    return _replace_names(text)


def _common_words(words: str) -> bool:
    """Whether the words between a number and a street type read as a sentence, not a street
    name: a common word in lower case ("3 weeks on the way"), or a duration."""
    _, _, common = _names()
    return any(
        w.lower() in _TIME_WORDS or (w.lower() in common and not _is_capitalised(w)) for w in words.split()
    )


_TIME_WORDS = frozenset(
    [
        "day",
        "days",
        "week",
        "weeks",
        "month",
        "months",
        "year",
        "years",
        "hour",
        "hours",
        "minute",
        "minutes",
        "mile",
        "miles",
    ]
)


def _replace_phones(text: str) -> str:
    if sum(c.isdigit() for c in text) < MIN_PHONE_DIGITS:  # most questions: no number to look at
        return text
    spans = sorted(
        {
            (match.start, match.end)
            for region in PHONE_REGIONS
            for match in phonenumbers.PhoneNumberMatcher(text, region, leniency=phonenumbers.Leniency.VALID)
        }
    )
    for start, end in reversed(_disjoint(spans)):
        text = text[:start] + "[phone]" + text[end:]
    return text


def _disjoint(spans: Iterable[Tuple[int, int]]) -> List[Tuple[int, int]]:
    kept: List[Tuple[int, int]] = []
    for start, end in sorted(spans):
        if kept and start < kept[-1][1]:
            kept[-1] = (kept[-1][0], max(end, kept[-1][1]))
        else:
            kept.append((start, end))
    return kept


def _replace_names(text: str) -> str:
    first, last, common = _names()
    words = [(m.start(), m.end(), m.group(0)) for m in _WORD.finditer(text)]
    spans = []
    i = 0
    while i < len(words):
        start, end, word = words[i]
        lower = word.lower()
        before = text[:start]
        if before.endswith("[") or lower in _TITLES:  # our placeholders; "Dr" is not the name
            i += 1
            continue
        title = _title_before(before)
        triggered = bool(_TRIGGERS.search(before))
        if title:
            is_name = lower not in common or _is_capitalised(word) and lower not in _NEVER_NAMES
        elif triggered:
            is_name = (lower in first and lower not in common) or (
                _is_capitalised(word) and lower not in _NEVER_NAMES
            )
        else:  # a known first name, capitalised, that is no common word: "Peter Jones here"
            is_name = lower in first and lower not in common and _is_capitalised(word)
        if title and lower in _PARTICLES:  # "Dr van der Berg"
            is_name = True
        if not is_name:
            i += 1
            continue
        j = i + 1  # the rest of the name: up to three more words, on the same line, no punctuation
        while j < len(words) and j - i <= 3 and _joined(text, words[j - 1][1], words[j][0]):
            following = words[j][2]
            lowered = following.lower()
            if lowered in _PARTICLES or (
                lowered not in common
                and (_is_capitalised(following) and lowered not in _NEVER_NAMES or lowered in last)
            ):
                j += 1
            else:
                break
        while j - 1 > i and words[j - 1][2].lower() in _PARTICLES:  # not a trailing "de"
            j -= 1
        spans.append((start, words[j - 1][1]))
        i = j
    for start, end in reversed(spans):
        text = text[:start] + "[name]" + text[end:]
    return text


def _title_before(before: str) -> bool:
    """Whether a title ("Dr", "Mrs.", "professor") and any name particles end `before`."""
    tokens = before.rstrip().split()
    while tokens and tokens[-1].lower() in _PARTICLES:
        tokens.pop()
    return bool(tokens) and tokens[-1].rstrip(".").lower() in _TITLES and before[-1:].isspace()


def _joined(text: str, end: int, start: int) -> bool:
    """Whether two words are parts of one name: only spaces between them."""
    gap = text[end:start]
    return bool(gap) and gap.strip(" ") == ""
