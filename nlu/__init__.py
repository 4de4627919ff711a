"""The Rasa server's graph components (config.yml's pipeline), in the order a message meets them:
sentence_features and minilm (the encoder's vectors), linear_intent_classifier, answer_confidence
(whether to answer), input_guard, urgency_classifier and red_flag_detector (safety, reading
safety/), rasa_patches_loader. real_text_importer adds the real train split to training.
May import assistant/, safety/, rasa_patches/, spacy_pipeline/; Rasa loads it, nothing else does."""
