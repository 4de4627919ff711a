"""The sentence encoder (nlu/minilm.py) computes all-MiniLM-L6-v2 from its pinned files."""

from __future__ import annotations

import numpy as np
import pytest

from nlu.minilm import DIMENSIONS, MAX_TOKENS, ModelFileError, installed_file, shared_encoder


def test_it_reproduces_the_similarities_sentence_transformers_documents():
    vectors = shared_encoder().encode(
        ["The weather is lovely today.", "It's so sunny outside!", "He drove to the stadium."]
    )
    similarities = vectors @ vectors.T
    assert round(float(similarities[0, 1]), 4) == pytest.approx(0.6660, abs=1e-4)
    assert round(float(similarities[0, 2]), 4) == pytest.approx(0.1046, abs=1e-4)
    assert round(float(similarities[1, 2]), 4) == pytest.approx(0.1411, abs=1e-4)


def test_vectors_are_unit_length_and_questions_that_mean_the_same_are_close():
    asleep, awake, parking = shared_encoder().encode(
        ["will I be put to sleep for the operation?", "am I awake for it?", "where do I park?"]
    )
    assert asleep.shape == (DIMENSIONS,) and asleep.dtype == np.float32
    assert np.linalg.norm(asleep) == pytest.approx(1.0, abs=1e-5)
    assert asleep @ awake > asleep @ parking


def test_empty_and_very_long_messages_are_encoded():
    empty, long_ = shared_encoder().encode(["", "word " * 5 * MAX_TOKENS])
    assert np.isfinite(empty).all() and np.isfinite(long_).all()


def test_only_the_pinned_model_files_are_accepted(monkeypatch):
    from nlu import minilm

    monkeypatch.setitem(minilm.SHA256, "config.json", "0" * 64)
    with pytest.raises(ModelFileError):
        installed_file("config.json")
