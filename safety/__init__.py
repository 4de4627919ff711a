"""Urgency detection, without Rasa: red_flag_matcher.py reads the red-flag patterns
(data/red_flags.yml: the clinical content, symptoms and their levels), urgency_model.py is the
learned layer. nlu/red_flag_detector.py and nlu/urgency_classifier.py run them in the Rasa server;
tests and the lab use them directly. May import assistant/ and spacy_pipeline/."""
