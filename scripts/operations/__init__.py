"""The clinic's operator tools: `make purge` (purge.py), `make review` (review_queue.py)."""
