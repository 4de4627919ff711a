"""Tools run by make, never imported by the rooms: the runtime (supervise.py: make run; cluster.py:
make cluster), the clinic's operator tools (purge.py, review_queue.py), and the lab (bench/,
evaluate.py, calibration.py, profile.py, real_text_lab.py, import_real_text.py)."""
