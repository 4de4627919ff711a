"""The runtime: what `make run` (supervise.py) and `make cluster` (cluster.py) start; profile.py
chooses the embedded or production endpoints."""
