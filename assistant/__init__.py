"""The core both servers share: what the assistant knows and how it words a reply.

  paths.py     where the project's files are
  names.py     the names that matter across the code: intents, entities, payloads
  content.py   the curated content's metadata (answers, titles, sections, topics) and training
               examples, read from data/ when first needed
  settings.py  thresholds (config.yml) and the clinic's details (environment), read when needed
  replies.py   the reply model: kinds, the disclaimer, channel-neutral message composition
  limits.py    every limit on what a client may send
  history.py   how much of a conversation a turn reads

Nothing here does I/O at import, and nothing here imports the action server (actions/), the Rasa
server's components (nlu/) or the channels (channels/): they all import from here.
"""
