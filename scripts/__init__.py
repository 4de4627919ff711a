"""Developer tools run by make: evaluate.py (make eval), review_queue.py (make review)."""
