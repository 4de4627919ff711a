"""Our spaCy pipeline, built from files in this repo (see build.py)."""
