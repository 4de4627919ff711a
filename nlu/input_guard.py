"""Input the assistant cannot answer as written: empty, too long, no words, web page markup or
code, not English, or gibberish (no word the assistant was trained on).

It runs in the Rasa server after the intent classifiers: a message with such a problem gets
the intent `nlu_fallback` and an `input_problem` entity naming the problem, so no curated
answer is ever given to it (a classifier can be confident about nonsense). The fallback action
sends the reply for that problem (`utter_<problem>` in domain.yml). The red-flag detector runs
after this, so an urgent symptom in such a message is still escalated.

The vocabulary is learnt from the training examples when the model is trained.
"""

from __future__ import annotations

import json
import re
import unicodedata
from typing import Any, Dict, Iterable, List, Set

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import ENTITIES, INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from spacy.lang.de.stop_words import STOP_WORDS as GERMAN
from spacy.lang.en.stop_words import STOP_WORDS as ENGLISH
from spacy.lang.es.stop_words import STOP_WORDS as SPANISH
from spacy.lang.fr.stop_words import STOP_WORDS as FRENCH
from spacy.lang.it.stop_words import STOP_WORDS as ITALIAN
from spacy.lang.nl.stop_words import STOP_WORDS as DUTCH
from spacy.lang.pt.stop_words import STOP_WORDS as PORTUGUESE

from assistant.names import FALLBACK_INTENT, INPUT_PROBLEM_ENTITY

VOCABULARY_FILE = "vocabulary.json"

# Function words that are common in other languages patients write in and are not English words
# too ("die", "a", "no" are both, so they are left out).
_OTHER_LANGUAGE_WORDS = (GERMAN | SPANISH | FRENCH | ITALIAN | DUTCH | PORTUGUESE) - ENGLISH
_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)
# An HTML tag, a script or event handler, a template or code fence.
_MARKUP = re.compile(
    r"<\s*/?\s*[a-z][a-z0-9-]*(\s[^<>]*)?/?\s*>|<\s*script|javascript\s*:|\bon[a-z]+\s*=\s*['\"]"
    r"|\{\{.*\}\}|\{%.*%\}|```|<\?php|\$\{[^}]*\}",
    re.IGNORECASE | re.DOTALL,
)


def _is_latin_letter(char: str) -> bool:
    return unicodedata.name(char, "").startswith("LATIN")


def looks_non_english(text: str) -> bool:
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


def words_of(text: str) -> List[str]:
    return _WORD.findall(text.lower())


def input_problem(
    text: str | None, vocabulary: Set[str], max_chars: int, min_known_share: float
) -> str | None:
    """The problem that stops us answering `text`, or None when it can be answered."""
    text = (text or "").strip()
    if not text:
        return "empty_message"
    if len(text) > max_chars:
        return "message_too_long"
    if _MARKUP.search(text):
        return "markup"
    words = words_of(text)
    if not words:
        return "no_words"
    if looks_non_english(text):
        return "not_english"
    if vocabulary:
        known = sum(w in vocabulary or w in ENGLISH for w in words)
        if known < min_known_share * len(words):
            return "not_understood"
    return None


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=True)
class InputGuard(GraphComponent):
    @staticmethod
    def get_default_config() -> Dict[str, Any]:
        return {
            # Longer messages are not questions we can answer well; the patient is asked to
            # shorten them (red flags in them are still found).
            "max_chars": 1000,
            # Below this share of words the assistant has seen in training (or English function
            # words), a message is treated as gibberish, not guessed at.
            "min_known_share": 0.5,
        }

    def __init__(
        self,
        config: Dict[str, Any],
        vocabulary: Iterable[str],
        model_storage: ModelStorage,
        resource: Resource,
    ) -> None:
        self.max_chars = int(config["max_chars"])
        self.min_known_share = float(config["min_known_share"])
        self.vocabulary = set(vocabulary)
        self._model_storage = model_storage
        self._resource = resource

    @classmethod
    def create(
        cls,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> InputGuard:
        return cls(config, (), model_storage, resource)

    @classmethod
    def load(
        cls,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> InputGuard:
        with model_storage.read_from(resource) as directory:
            vocabulary = json.loads((directory / VOCABULARY_FILE).read_text(encoding="utf-8"))
        return cls(config, vocabulary, model_storage, resource)

    def train(self, training_data: TrainingData) -> Resource:
        self.vocabulary = {
            w for example in training_data.training_examples for w in words_of(example.get(TEXT) or "")
        }
        with self._model_storage.write_to(self._resource) as directory:
            (directory / VOCABULARY_FILE).write_text(json.dumps(sorted(self.vocabulary)), encoding="utf-8")
        return self._resource

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            problem = input_problem(message.get(TEXT), self.vocabulary, self.max_chars, self.min_known_share)
            if problem:
                mark_unanswerable(message, problem)
        return messages


def mark_unanswerable(message: Message, problem: str) -> None:
    entities = list(message.get(ENTITIES) or []) + [
        {"entity": INPUT_PROBLEM_ENTITY, "value": problem, "start": 0, "end": 0, "extractor": "InputGuard"}
    ]
    message.set(ENTITIES, entities, add_to_output=True)
    message.set(INTENT, {"name": FALLBACK_INTENT, "confidence": 1.0}, add_to_output=True)
    # The ranking keeps what the classifier thought, for the review queue and evaluation.
    message.set(INTENT_RANKING_KEY, message.get(INTENT_RANKING_KEY) or [], add_to_output=True)
