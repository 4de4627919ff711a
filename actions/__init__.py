"""The action server: our custom actions; may import assistant/ and stores/ only. Every message
the assistant sends is composed by assistant/replies.py (which appends the surgeon disclaimer)
and sent by dispatch.send.

How a patient message flows through (see README for the diagram):
  Rasa NLU (config.yml) -> intent -> rule (data/rules.yml) -> one action below -> dispatch.send
  base.py              the checks every action runs first: urgent, unanswerable input, confidence
  urgent.py            red-flag symptoms -> urgent guidance at its level, nothing else
  answer_question.py   answer intents -> curated answer from domain.yml
  follow_up.py         "tell me more" -> the last answer's topic
  smalltalk.py         greet, goodbye, thanks, bot identity
  topics.py            help / topic menu
  deflect.py           out of scope, not covered by the document, personal advice
  fallback.py          low confidence and unanswerable input
  dispatch.py          send a composed reply; unanswered turns go to stores/review_queue.py
"""
