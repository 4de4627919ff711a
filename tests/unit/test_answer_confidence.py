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
