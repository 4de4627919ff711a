"""Training data: our files (data/, as Rasa reads them) plus the real patients' questions of the
train split (corpus/real/questions.yml), each under the answer a careful reader gives it, or,
when the document does not cover it, `out_of_scope_medical`. config.yml names this importer, so
`rasa train`, `rasa data validate` and `rasa test` all see the same data; the dev and test splits
never reach training.
"""

from __future__ import annotations

from rasa.shared.importers.rasa import RasaFileImporter
from rasa.shared.nlu.constants import INTENT, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from assistant import corpus

# Real questions the document does not cover: spine-related, so the "not in the document" reply.
NOT_IN_THE_DOCUMENT_INTENT = "out_of_scope_medical"


def intent_of(question: corpus.Question) -> str:
    return NOT_IN_THE_DOCUMENT_INTENT if question.answer == corpus.OUT_OF_SCOPE else question.answer


def real_training_questions() -> TrainingData:
    return TrainingData(
        [Message(data={TEXT: q.text, INTENT: intent_of(q)}) for q in corpus.questions_in("train")]
    )


class RealTextImporter(RasaFileImporter):
    def get_nlu_data(self, language: str | None = "en") -> TrainingData:
        return super().get_nlu_data(language).merge(real_training_questions())
