"""Everything that holds patient data, so that forget-me and purge touch one room:
tracker_store.py (conversations, and the ids of the messages they received), lock_store.py
(one turn at a time per conversation), review_queue.py (unanswered questions, redacted).
The only modules that open a database or Redis. May import assistant/."""
