"""Everything that holds patient data, so that forget-me and purge touch one room:
tracker_store.py (conversations), lock_store.py (one turn at a time per conversation),
review_queue.py (unanswered questions, redacted), seen_sms.py (Twilio message ids seen).
The only modules that open a database, Redis or the SMS-ids file. May import assistant/."""
