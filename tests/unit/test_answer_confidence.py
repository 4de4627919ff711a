"""When the assistant answers (nlu/answer_confidence.py): the decision on a ranking."""

from __future__ import annotations

from nlu.answer_confidence import decide

SECTIONS = {
    "recovery_time": "recovery",
    "return_to_normal_activities": "recovery",
    "hospital_stay": "recovery",
    "risks_overview": "risks",
    "infection_risk": "risks",
}


def ranking(*pairs):
    return [{"name": name, "confidence": confidence} for name, confidence in pairs]


def test_a_clear_answer_is_given():
    assert decide(ranking(("hospital_stay", 0.8), ("risks_overview", 0.1)), 0.45, 0.1, SECTIONS) == (
        "hospital_stay",
        0.8,
    )


def test_two_candidates_of_the_same_section_are_not_ambiguous():
    intent, confidence = decide(
        ranking(("recovery_time", 0.3), ("return_to_normal_activities", 0.28), ("risks_overview", 0.1)),
        0.45,
        0.1,
        SECTIONS,
    )
    assert intent == "recovery_time" and abs(confidence - 0.58) < 1e-9


def test_two_candidates_of_different_sections_that_are_close_are():
    intent, _ = decide(ranking(("recovery_time", 0.5), ("risks_overview", 0.45)), 0.45, 0.1, SECTIONS)
    assert intent is None


def test_below_the_threshold_nothing_is_answered():
    assert decide(ranking(("infection_risk", 0.3), ("greet", 0.2)), 0.45, 0.1, SECTIONS)[0] is None


def test_other_intents_need_the_threshold_on_their_own():
    assert decide(ranking(("greet", 0.5)), 0.45, 0.1, SECTIONS) == ("greet", 0.5)
    assert decide(ranking(("greet", 0.4)), 0.45, 0.1, SECTIONS)[0] is None
    assert decide([], 0.45, 0.1, SECTIONS) == (None, 0.0)


def urgent_first_message():
    from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
    from rasa.shared.nlu.training_data.message import Message

    message = Message(data={TEXT: "how long is the hospital stay"})
    ranked = ranking(("report_urgent_symptom", 0.6), ("hospital_stay", 0.35), ("risks_overview", 0.05))
    message.set(INTENT_RANKING_KEY, ranked)
    message.set(INTENT, dict(ranked[0]))
    return message


def test_when_the_best_is_urgent_the_decision_without_it_is_made_here_too():
    from rasa.shared.nlu.constants import INTENT

    from nlu.answer_confidence import ANSWER_IF_NOT_URGENT, AnswerConfidence

    (message,) = AnswerConfidence({"threshold": 0.3, "ambiguity_margin": 0.1}).process(
        [urgent_first_message()]
    )
    assert message.get(INTENT)["name"] == "report_urgent_symptom"
    assert message.get(ANSWER_IF_NOT_URGENT) == {"name": "hospital_stay", "confidence": 0.35}
    (message,) = AnswerConfidence({"threshold": 0.5, "ambiguity_margin": 0.1}).process(
        [urgent_first_message()]
    )
    assert message.get(ANSWER_IF_NOT_URGENT)["name"] == "nlu_fallback"


def test_the_red_flag_detector_takes_that_decision_when_no_layer_finds_urgency():
    """No second decision in the detector: with no red flag and no learned urgency, the message
    gets what AnswerConfidence decided without the urgent intent, nlu_fallback included."""
    import spacy
    from rasa.nlu.utils.spacy_utils import SpacyModel
    from rasa.shared.nlu.constants import INTENT

    from nlu.answer_confidence import AnswerConfidence
    from nlu.red_flag_detector import RedFlagDetector

    spacy_model = SpacyModel(model=spacy.blank("en"), model_name="blank")
    for threshold, expected in [(0.3, "hospital_stay"), (0.5, "nlu_fallback")]:
        decided = AnswerConfidence({"threshold": threshold, "ambiguity_margin": 0.1}).process(
            [urgent_first_message()]
        )
        (message,) = RedFlagDetector({}).process(decided, spacy_model)
        assert message.get(INTENT)["name"] == expected
