"""Common English words, so that typo correction never turns a real word into a symptom word
("sleeping" is not "bleeding"). Taken from spaCy's word probabilities in spacy-lookups-data;
build.py stores them in our pipeline's vocabulary as the lookups table TABLE."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any, Container, FrozenSet

import spacy_lookups_data

TABLE = "english_words"
# Words at least this frequent (log probability) count as real words; misspellings such as
# "temprature" (-17.6) or "vomitting" (-16.4) fall below it.
MIN_LOG_PROB = -16.0
MIN_LENGTH = 4  # shorter words are never corrected


def from_lookups_data() -> FrozenSet[str]:
    path = Path(spacy_lookups_data.__file__).parent / "data" / "en_lexeme_prob.json.gz"
    with gzip.open(path, "rt", encoding="utf-8") as f:
        probabilities = json.load(f)
    return frozenset(
        w
        for w, p in probabilities.items()
        if p > MIN_LOG_PROB and len(w) >= MIN_LENGTH and w.isalpha() and w.islower()
    )


def of_pipeline(nlp: Any) -> Container[str]:
    """The words stored in a pipeline built by build.py; for any other pipeline (a blank one in
    tests), read from spacy-lookups-data (a few seconds)."""
    if nlp.vocab.lookups.has_table(TABLE):
        return nlp.vocab.lookups.get_table(TABLE)  # `word in table` looks the word up
    return from_lookups_data()
