"""`make bench`: our assistant and a stock Rasa baseline, measured side by side through the REST
webhook (latency, throughput, memory, start-up, where the time of a turn goes), written to
reports/bench.json and reports/bench.md. A benchmark, not a test: it asserts no timings.

- __main__.py runs it all (`python -m scripts.lab.bench [--smoke]`)
- plan.py: how much load each mode sends
- load.py: the conversations and the asynchronous REST load
- servers.py: starting, watching and stopping the servers of each system
- baseline.py: the stock configuration (from `rasa init`) trained on our data, cached
- baseline_actions.py: the baseline's minimal rasa-sdk action server
- profile_turn.py: in-process profile of single turns (NLU, policies, action call, tracker store)
- report.py: the JSON and the markdown table
"""
