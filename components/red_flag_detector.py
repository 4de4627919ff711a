"""Red-flag detection: the safety check that runs on every message, before any answer is chosen.

It combines two layers and overrides the intent with `report_urgent_symptom` when either fires:
1. deterministic: spaCy PhraseMatcher patterns for the red-flag symptoms in red_flags.yml, with
   negation ("no fever", "I don't have any leakage") and general risk questions ("is there a risk
   of infection?") excluded;
2. NLU: DIET's own `report_urgent_symptom` intent (trained on patient phrasings), for reports
   the patterns do not cover, unless the patterns saw only negated symptoms.
Rules then send `report_urgent_symptom` to action_urgent, which gives only the urgent guidance.
Found red flags are added as `red_flag` entities: the audit trail of why a patient was escalated.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Optional, Set, Text, Tuple

import yaml
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.constants import SPACY_DOCS
from rasa.nlu.utils.spacy_utils import SpacyModel
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT, ENTITIES
from rasa.shared.nlu.training_data.message import Message
from spacy.matcher import PhraseMatcher
from spacy.tokens import Doc

from actions.settings import URGENT_INTENT

PATTERNS_FILE = Path(__file__).with_name("red_flags.yml")
SENTENCE_BREAKS = {".", "!", "?", ";", "\n", "but"}


@dataclass(frozen=True)
class Mention:
    flag: Text
    group: int  # which list of the flag the phrase came from
    start: int
    end: int
    sentence: int
    negated: bool


class RedFlagMatcher:
    """The deterministic layer, usable on its own (tests, evaluation)."""

    def __init__(self, nlp: Any, config_path: Path = PATTERNS_FILE) -> None:
        config = yaml.safe_load(config_path.read_text(encoding="utf-8"))
        self.matcher = PhraseMatcher(nlp.vocab, attr="LOWER")
        self.groups_needed: Dict[Text, int] = {}
        for flag, spec in config["red_flags"].items():
            lists = [spec["any"]] if "any" in spec else spec["all"]
            self.groups_needed[flag] = len(lists)
            for index, phrases in enumerate(lists):
                self.matcher.add(f"{flag}|{index}", [nlp.make_doc(str(p)) for p in phrases])
        self.negation_cues = [nlp.make_doc(str(c)) for c in config["negation_cues"]]
        self.window = int(config["negation_window"])
        self.general_markers = [nlp.make_doc(str(m)).text.lower() for m in config["general_question_markers"]]
        self.vocab = nlp.vocab

    @staticmethod
    def _sentence_ids(doc: Doc) -> List[int]:
        ids, current = [], 0
        for token in doc:
            ids.append(current)
            if token.lower_ in SENTENCE_BREAKS or "\n" in token.text:
                current += 1
        return ids

    def _is_negated(self, doc: Doc, start: int, sentence_ids: List[int], in_symptoms: Set[int]) -> bool:
        # Cues inside a symptom phrase ("can't feel", "unable to pass urine") are the symptom.
        window = [t for t in doc[max(0, start - self.window):start]
                  if sentence_ids[t.i] == sentence_ids[start] and t.i not in in_symptoms]
        words = {t.lower_ for t in window}
        negated = any(all(t.lower_ in words for t in cue) for cue in self.negation_cues)
        # "can't sit up without a headache" denies the sitting, not the headache.
        double = "without" in words and any(t.lower_ in {"n't", "nt", "cannot", "not"}
                                            for t in doc[:start] if t.lower_ != "without"
                                            and sentence_ids[t.i] == sentence_ids[start])
        return negated and not double

    def _general_sentences(self, doc: Doc, sentence_ids: List[int]) -> Set[int]:
        general = set()
        for sentence in set(sentence_ids):
            text = " ".join(t.lower_ for t in doc if sentence_ids[t.i] == sentence)
            if any(f" {m} " in f" {text} " for m in self.general_markers):
                general.add(sentence)
        return general

    def mentions(self, doc: Doc) -> List[Mention]:
        sentence_ids = self._sentence_ids(doc)
        general = self._general_sentences(doc, sentence_ids)
        matches = self.matcher(doc)
        in_symptoms = {i for _, start, end in matches for i in range(start, end)}
        found = []
        for match_id, start, end in matches:
            flag, group = self.vocab.strings[match_id].split("|")
            if sentence_ids[start] in general:
                continue
            found.append(Mention(flag, int(group), start, end, sentence_ids[start],
                                 self._is_negated(doc, start, sentence_ids, in_symptoms)))
        return found

    def red_flags(self, doc: Doc) -> Tuple[List[Tuple[Text, int, int]], bool]:
        """(flags found as (name, start_char, end_char), whether any symptom was only negated)."""
        mentions = self.mentions(doc)
        flags = []
        for flag, needed in self.groups_needed.items():
            for sentence in {m.sentence for m in mentions if m.flag == flag}:
                in_sentence = [m for m in mentions if m.flag == flag and m.sentence == sentence
                               and not m.negated]
                if len({m.group for m in in_sentence}) < needed:
                    continue
                first = min(in_sentence, key=lambda m: m.start)
                last = max(in_sentence, key=lambda m: m.end)
                flags.append((flag, doc[first.start].idx, doc[last.end - 1].idx + len(doc[last.end - 1])))
                break
        only_negated = bool(mentions) and not flags and any(m.negated for m in mentions)
        return flags, only_negated


@DefaultV1Recipe.register(
    [DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=False, model_from="SpacyNLP"
)
class RedFlagDetector(GraphComponent):
    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        # DIET's confidence in report_urgent_symptom at or above which we escalate.
        return {"nlu_threshold": 0.85}

    def __init__(self, config: Dict[Text, Any]) -> None:
        self.nlu_threshold = float(config["nlu_threshold"])
        self._matcher: Optional[RedFlagMatcher] = None

    @classmethod
    def create(cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> "RedFlagDetector":
        return cls(config)

    def _nlu_confidence(self, message: Message) -> float:
        ranking = message.get(INTENT_RANKING_KEY) or []
        return max((r["confidence"] for r in ranking if r.get("name") == URGENT_INTENT), default=0.0)

    def process(self, messages: List[Message], model: SpacyModel) -> List[Message]:
        if self._matcher is None:
            self._matcher = RedFlagMatcher(model.model)
        for message in messages:
            doc = message.get(SPACY_DOCS[TEXT]) or model.model(message.get(TEXT) or "")
            flags, only_negated = self._matcher.red_flags(doc)
            nlu_confidence = self._nlu_confidence(message)
            by_nlu = nlu_confidence >= self.nlu_threshold and not only_negated
            if flags or by_nlu:
                self._escalate(message, flags, nlu_confidence)
            elif (message.get(INTENT) or {}).get("name") == URGENT_INTENT:
                # DIET said urgent but the patient only denied symptoms ("no fever"): take the
                # best other intent; the actions apply the confidence threshold to it.
                others = [r for r in message.get(INTENT_RANKING_KEY) or []
                          if r.get("name") not in (URGENT_INTENT, "nlu_fallback")]
                best = others[0] if others else {"name": "nlu_fallback", "confidence": 0.0}
                message.set(INTENT, dict(best), add_to_output=True)
        return messages

    @staticmethod
    def _escalate(message: Message, flags: List[Tuple[Text, int, int]], nlu_confidence: float) -> None:
        text = message.get(TEXT) or ""
        entities = list(message.get(ENTITIES) or []) + [
            {"entity": "red_flag", "value": flag, "start": start, "end": end,
             "text": text[start:end], "extractor": "RedFlagDetector"}
            for flag, start, end in flags
        ]
        message.set(ENTITIES, entities, add_to_output=True)
        message.set(INTENT, {"name": URGENT_INTENT, "confidence": 1.0}, add_to_output=True)
        # The ranking keeps DIET's own confidence, so evaluation can tell the two layers apart.
        ranking = [r for r in message.get(INTENT_RANKING_KEY) or [] if r.get("name") != URGENT_INTENT]
        message.set(INTENT_RANKING_KEY,
                    [{"name": URGENT_INTENT, "confidence": nlu_confidence}] + ranking,
                    add_to_output=True)
