"""Custom actions of the endoscopic spine surgery patient assistant.

Every message the assistant sends is built here, by `replies.send`, which appends the surgeon
disclaimer and records what the patient was told in the message metadata.

How a patient message flows through (see README for the diagram):
  Rasa NLU (config.yml) -> intent -> rule (data/rules.yml) -> one action below -> replies.send
  answer_question.py   answer intents -> curated answer from domain.yml
  smalltalk.py         greet, goodbye, thanks, bot identity
  topics.py            help / topic menu
  deflect.py           out of scope, not covered by the document, personal advice
  fallback.py          low confidence and unusable input
"""
