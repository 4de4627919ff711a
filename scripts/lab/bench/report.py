"""The benchmark's results: reports/bench.json (everything measured) and reports/bench.md (the
tables: both systems side by side, where a turn goes, the graph nodes, how it was run)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Dict, List

SYSTEMS = ("ours", "baseline")


def _num(value: Any, digits: int = 0) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, (int, float)):
        return f"{value:.{digits}f}"
    return str(value)


def _latency(level: Dict[str, Any] | None) -> str:
    if not level:
        return "n/a"
    return " / ".join(_num(level.get(k)) for k in ("p50_ms", "p95_ms", "p99_ms"))


def _errors(level: Dict[str, Any] | None) -> str:
    if not level:
        return "n/a"
    return f"{level['errors']} ({level['non_200']} / {level['empty']} / {level['client_errors']})"


def _row(cells: List[str]) -> str:
    return "| " + " | ".join(cells) + " |"


def _table(header: List[str], rows: List[List[str]]) -> List[str]:
    return [_row(header), _row(["---"] * len(header)), *(_row(r) for r in rows)]


def main_table(results: Dict[str, Any]) -> List[str]:
    systems = results["systems"]

    def each(get: Any) -> List[str]:
        return [get(systems.get(name) or {}) for name in SYSTEMS]

    rows: List[List[str]] = []
    for level in results["plan"]["levels"]:
        name = f"c{level['concurrency']}"
        size = f"{level['conversations']} conversations x {level['turns']} turns"
        rows.append(
            [f"c={level['concurrency']} ({size}): p50 / p95 / p99 ms"]
            + each(lambda s, n=name: _latency(s.get("levels", {}).get(n)))
        )
        rows.append(
            [f"c={level['concurrency']}: messages/s"]
            + each(lambda s, n=name: _num(s.get("levels", {}).get(n, {}).get("messages_per_second"), 1))
        )
        rows.append(
            [f"c={level['concurrency']}: errors (non-200 / empty / client)"]
            + each(lambda s, n=name: _errors(s.get("levels", {}).get(n)))
        )
    long_turns = results["plan"]["long_turns"]
    windows: List[Dict[str, Any]] = next(
        (s["long"]["windows"] for s in systems.values() if s.get("long")), []
    )
    labels = " / ".join(w["turns"] for w in windows)
    rows.append(
        [f"long conversation ({long_turns} turns): p50 ms at turns {labels}"]
        + each(
            lambda s: " / ".join(_num(w["p50_ms"]) for w in (s.get("long") or {}).get("windows", [])) or "n/a"
        )
    )
    rows.append(["long conversation: errors"] + each(lambda s: _errors(s.get("long"))))
    rows.append(
        ['"did you mean": choices sent from a button']
        + each(
            lambda s: (
                f"{sum(lv['did_you_mean_from_button'] for lv in s.get('levels', {}).values())}"
                f" of {sum(lv['did_you_mean_choices'] for lv in s.get('levels', {}).values())}"
            )
        )
    )
    rows.append(
        ["peak RSS (VmHWM) MB: Rasa server / action server"]
        + each(
            lambda s: " / ".join(
                _num((s.get("peak_rss_mb") or {}).get(k)) for k in ("rasa_server", "action_server")
            )
        )
    )
    rows.append(["start to first REST reply (s)"] + each(lambda s: _num(s.get("ready_seconds"), 1)))
    rows.append(["training time"] + each(lambda s: s.get("training", "n/a")))
    rows.append(["model size (MB)"] + each(lambda s: _num(s.get("model_mb"), 1)))
    cluster = results.get("cluster") or {}
    topology = cluster.get("topology", "")
    for name, level in (cluster.get("levels") or {}).items():
        rows.append(
            [f"production profile ({topology}), {name.replace('c', 'c=')}: p50 / p95 / p99 ms"]
            + [_latency(level), "-"]
        )
        rows.append(
            [f"production profile, {name.replace('c', 'c=')}: messages/s, errors"]
            + [f"{_num(level['messages_per_second'], 1)}, {_errors(level)}", "-"]
        )
    return _table(["", "ours", "baseline (stock rasa init config)"], rows)


PART_LABELS = {
    "total": "whole turn (`Agent.handle_message`)",
    "nlu": "NLU (`MessageProcessor.parse_message`)",
    "policy": "policy prediction (`MessageProcessor._predict_next_with_tracker`)",
    "action_server": "action server call (`RemoteAction.run`)",
    "tracker_retrieve": "tracker store: retrieve",
    "tracker_save": "tracker store: save",
    "rest": "the rest (lock, session, events, channel)",
}


def turn_table(results: Dict[str, Any]) -> List[str]:
    profiles = {name: (results["systems"].get(name) or {}).get("profile") or {} for name in SYSTEMS}
    rows = []
    for part, label in PART_LABELS.items():
        cells = [label]
        for name in SYSTEMS:
            profile = profiles[name]
            cells.append(_num((profile.get("wall_ms_per_turn") or {}).get(part), 1))
            cells.append(_num((profile.get("cprofile_ms_per_turn") or {}).get(part), 1))
        rows.append(cells)
    header = ["ms per turn", "ours: wall", "ours: cProfile", "baseline: wall", "baseline: cProfile"]
    return _table(header, rows)


def node_lines(results: Dict[str, Any], limit: int = 14) -> List[str]:
    lines: List[str] = []
    for name in SYSTEMS:
        nodes = ((results["systems"].get(name) or {}).get("profile") or {}).get("wall_ms_per_turn", {})
        nodes = nodes.get("nodes") or {}
        if not nodes:
            continue
        lines += ["", f"**{name}**: graph nodes, wall ms per turn (stage: node)", ""]
        shown = list(nodes.items())[:limit]
        lines += _table(["node", "ms/turn"], [[f"`{node}`", _num(ms, 2)] for node, ms in shown])
    return lines


def markdown(results: Dict[str, Any]) -> str:
    plan = results["plan"]
    lines = [
        f"# Benchmark: ours vs stock Rasa ({'smoke' if plan['smoke'] else 'full'} run)",
        "",
        f"{results['started_at']}, commit {results['git']['commit']}"
        f"{' (with uncommitted changes)' if results['git']['dirty'] else ''}, "
        f"{results['machine']['cpus']} CPUs ({results['machine']['cpu']}), "
        f"load average at start {results['machine']['load_average_at_start']}. "
        "Latencies are of answered turns, measured at the client through the REST webhook; "
        "both systems get the same conversations. Timings on a shared machine are noisy.",
        "",
        *main_table(results),
        "",
        "## Where the time of one turn goes",
        "",
        "In-process (`load_agent` + `Agent.handle_message`, the same mix of messages, after a warm-up): "
        "wall-clock timers in one pass, cProfile cumulative time in another (cProfile slows Python "
        "code, and counts a coroutine only while it runs: the wait for the action server is not in it).",
        "",
        *turn_table(results),
        *node_lines(results),
        "",
        "## How it was run",
        "",
    ]
    lines += [f"- {note}" for note in results.get("notes", [])]
    lines.append(f"- wall time of this run: {results.get('wall_seconds', 0):.0f} s")
    return "\n".join(lines) + "\n"


def write(results: Dict[str, Any], directory: Path) -> str:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "bench.json").write_text(json.dumps(results, indent=2, default=str))
    text = markdown(results)
    (directory / "bench.md").write_text(text)
    return text
