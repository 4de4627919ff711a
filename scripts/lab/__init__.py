"""The lab: `make bench` (bench/), `make eval` (evaluate.py, calibration.py), the real-text lab
(real_text_lab.py) and its importer (import_real_text.py). Never run by the assistant itself."""
