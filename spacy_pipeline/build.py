"""Build our spaCy pipeline from files in this repo (pretrained models are not used).

blank English tokenizer -> lookup lemmatizer (tables from spacy-lookups-data) -> entity ruler
with the conditions, symptoms and procedure terms of the clinic's document
(spacy_pipeline/entity_patterns.jsonl); the vocabulary also carries a table of common English
words (english_words.py), which the red-flag detector's typo correction reads. The result is
written to build/spacy/en_spine_faq, which config.yml's SpacyNLP loads.

Usage: python -m spacy_pipeline.build [OUTPUT_DIR]
"""

from __future__ import annotations

import sys
from pathlib import Path

import spacy
from spacy.pipeline import EntityRuler

from spacy_pipeline import english_words

HERE = Path(__file__).resolve().parent
PATTERNS = HERE / "entity_patterns.jsonl"
DEFAULT_OUTPUT = HERE.parent / "build" / "spacy" / "en_spine_faq"


def build() -> spacy.language.Language:
    nlp = spacy.blank("en")
    nlp.add_pipe("lemmatizer", config={"mode": "lookup"})
    # Loads the lemma lookup table from spacy-lookups-data into the pipeline; it must come before
    # the ruler's patterns, which are run through the pipeline when added.
    nlp.initialize()
    # LOWER: patients rarely capitalise; the ruler matches "Sciatica" and "sciatica" alike.
    ruler = nlp.add_pipe("entity_ruler", config={"phrase_matcher_attr": "LOWER"})
    assert isinstance(ruler, EntityRuler)
    ruler.from_disk(PATTERNS)
    nlp.vocab.lookups.add_table(english_words.TABLE, dict.fromkeys(english_words.from_lookups_data(), 1))
    nlp.meta.update(
        {
            "name": "spine_faq",
            "version": "1.0.0",
            "description": "Blank English + lookup lemmatizer + entity ruler for the spine FAQ assistant",
        }
    )
    return nlp


def main() -> None:
    output = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_OUTPUT
    nlp = build()
    output.mkdir(parents=True, exist_ok=True)
    nlp.to_disk(output)
    doc = nlp("I have sciatica and a slipped disc, will the keyhole surgery hurt?")
    print(f"spaCy pipeline written to {output}: {nlp.pipe_names}")
    print("  check:", [(t.text, t.lemma_) for t in doc][:6], [(e.text, e.label_) for e in doc.ents])


if __name__ == "__main__":
    main()
