"""Where the time of one turn goes, in-process: a model loaded as the Rasa server loads it
(`load_agent` with an endpoints file: a running action server, the tracker store it names), fed
the benchmark's mix of messages through `Agent.handle_message`, twice:

1. with wall-clock timers around NLU (`MessageProcessor.parse_message`), policy prediction
   (`MessageProcessor._predict_next_with_tracker`), the action server call (`RemoteAction.run`),
   the tracker store's retrieve and save, and each graph node (every NLU component and policy);
2. under cProfile (cumulative time of the same functions; a coroutine's time there excludes what
   it spends waiting, e.g. for the action server). The profile is saved for snakeviz/pstats.

Our channels hand a message to Rasa through `channels.inbound.hand_over` when it exists (it
sets what a turn reads): so does this, for our model, to time what the REST channel runs.

Usage: python -m scripts.lab.bench.profile_turn --label ours --model M --endpoints E --messages 100
       --out result.json [--prof result.prof] [--via-channel]
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import importlib
import inspect
import json
import logging
import pstats
import time
from collections import defaultdict
from pathlib import Path
from typing import Any, Awaitable, Callable, DefaultDict, Dict, List, Tuple

from rasa_patches.profiling import TIMERS, time_coroutine, time_function, time_graph_nodes
from scripts.lab.bench.load import Step, profile_messages, text_for

WARM_UP_MESSAGES = 5
PARTS = ["nlu", "policy", "action_server", "tracker_retrieve", "tracker_save"]


def code_key(function: Any) -> Tuple[str, int, str] | None:
    code = getattr(getattr(function, "__func__", function), "__code__", None)
    return (code.co_filename, code.co_firstlineno, code.co_name) if code else None


async def converse(
    handle: Callable[[Any], Awaitable[Any]], sender: str, steps: List[Step], channel: str
) -> None:
    from rasa.core.channels.channel import CollectingOutputChannel, UserMessage

    previous: List[Dict[str, Any]] = []
    for step in steps:
        text, _ = text_for(step, previous)
        output = CollectingOutputChannel()
        await handle(UserMessage(text, output, sender, input_channel=channel, metadata={}))
        previous = list(output.messages)


async def run(args: argparse.Namespace) -> Dict[str, Any]:
    from rasa.core.actions.action import RemoteAction
    from rasa.core.agent import Agent, load_agent
    from rasa.core.processor import MessageProcessor
    from rasa.core.utils import AvailableEndpoints

    started = time.perf_counter()
    agent = await load_agent(
        model_path=args.model, endpoints=AvailableEndpoints.read_endpoints(args.endpoints)
    )
    load_seconds = time.perf_counter() - started
    if not agent.is_ready():
        raise SystemExit(f"the model {args.model} did not load")
    assert agent.processor is not None

    hand_over: Callable[..., Awaitable[Any]] | None = None
    if args.via_channel:
        try:
            hand_over = getattr(importlib.import_module("channels.inbound"), "hand_over", None)
        except ImportError:
            hand_over = None

    # Patched after loading: our patches (rasa_patches/) wrap RemoteAction.run when the model loads.
    originals = {
        "total": time_coroutine(Agent, "handle_message", "total"),
        "nlu": time_coroutine(MessageProcessor, "parse_message", "nlu"),
        "policy": time_function(MessageProcessor, "_predict_next_with_tracker", "policy"),
        "action_server": time_coroutine(RemoteAction, "run", "action_server"),
    }
    store = agent.processor.tracker_store
    for attribute, name in [
        ("retrieve", "tracker_retrieve"),
        ("retrieve_full_tracker", "tracker_retrieve"),
        ("save", "tracker_save"),
    ]:
        originals[f"{name}.{attribute}"] = time_coroutine(store, attribute, name)
    time_graph_nodes()

    async def handle(message: Any) -> Any:
        if hand_over is not None:
            return await hand_over(agent.handle_message, message)
        return await agent.handle_message(message)

    prefix = "rest-" if args.channel == "rest" else ""
    conversations = profile_messages(args.messages)
    count = sum(len(c) for c in conversations)

    async def feed(pass_name: str) -> float:
        start = time.perf_counter()
        for number, steps in enumerate(conversations):
            await converse(handle, f"{prefix}profile-{args.label}-{pass_name}-{number}", steps, args.channel)
        return time.perf_counter() - start

    await converse(
        handle, f"{prefix}profile-{args.label}-warm-up", profile_messages(WARM_UP_MESSAGES)[0], "rest"
    )
    TIMERS.reset()
    timed_seconds = await feed("timed")
    wall = per_turn(dict(TIMERS.seconds), count)
    calls = {name: round(n / count, 2) for name, n in TIMERS.calls.items()}

    TIMERS.reset()
    profiler = cProfile.Profile()
    profiler.enable()
    profiled_seconds = await feed("profiled")
    profiler.disable()
    if args.prof:
        profiler.dump_stats(args.prof)
    stats = pstats.Stats(profiler)
    cumulative = cumulative_times(stats, originals, count)

    return {
        "label": args.label,
        "model": str(args.model),
        "via_channel": hand_over is not None,
        "model_load_seconds": round(load_seconds, 1),
        "messages": count,
        "timed_pass_seconds": round(timed_seconds, 2),
        "profiled_pass_seconds": round(profiled_seconds, 2),
        "wall_ms_per_turn": wall,
        "calls_per_turn": calls,
        "cprofile_ms_per_turn": cumulative,
        "cprofile_top": top_functions(stats, count),
    }


def per_turn(seconds: Dict[str, float], count: int) -> Dict[str, Any]:
    """ms per turn of each part, the rest, and each graph node."""
    parts = {part: round(seconds.get(part, 0.0) * 1000 / count, 2) for part in ["total", *PARTS]}
    parts["rest"] = round(parts["total"] - sum(parts[p] for p in PARTS), 2)
    nodes = {
        name: round(value * 1000 / count, 2)
        for name, value in sorted(seconds.items(), key=lambda item: -item[1])
        if ":" in name
    }
    return {**parts, "nodes": nodes}


def stock_remote_run_key(table: Dict[Tuple[str, int, str], Tuple]) -> Tuple[str, int, str] | None:
    """Rasa's own RemoteAction.run (whatever wraps or replaces it on the class now)."""
    from rasa.core.actions.action import RemoteAction

    filename = inspect.getsourcefile(RemoteAction)
    lines, first = inspect.getsourcelines(RemoteAction)
    for key in table:
        if key[0] == filename and key[2] == "run" and first <= key[1] < first + len(lines):
            return key
    return None


def cumulative_times(stats: pstats.Stats, originals: Dict[str, Callable], count: int) -> Dict[str, float]:
    """cProfile's cumulative ms per turn of the functions the parts time. A wrapper of
    RemoteAction.run may run Rasa's in a task of its own (asyncio.wait_for): the larger of the two."""
    table: Dict[Tuple[str, int, str], Tuple] = stats.stats  # type: ignore[attr-defined]
    result: DefaultDict[str, float] = defaultdict(float)
    for name, function in originals.items():
        key = code_key(function)
        if key and key in table:
            result[name.split(".")[0]] += table[key][3] * 1000 / count
    stock = stock_remote_run_key(table)
    if stock is not None and stock != code_key(originals["action_server"]):
        result["action_server"] = max(result["action_server"], table[stock][3] * 1000 / count)
    parts = {part: round(result.get(part, 0.0), 2) for part in ["total", *PARTS]}
    parts["rest"] = round(parts["total"] - sum(parts[p] for p in PARTS), 2)
    return parts


def top_functions(stats: pstats.Stats, count: int, limit: int = 30) -> List[Dict[str, Any]]:
    """The functions of Rasa, ours and the libraries with the most cumulative time per turn."""
    table: Dict[Tuple[str, int, str], Tuple] = stats.stats  # type: ignore[attr-defined]
    rows = sorted(table.items(), key=lambda item: -item[1][3])
    top = []
    for (filename, line, function), (_, calls, own, cumulative, _) in rows:
        short = filename.split("site-packages/")[-1].replace(str(Path.cwd()) + "/", "")
        if short.startswith(("<", "~", "asyncio/")) or "/asyncio/" in short or "bench/profile_turn" in short:
            continue
        top.append(
            {
                "function": f"{short}:{line}({function})",
                "calls_per_turn": round(calls / count, 1),
                "own_ms_per_turn": round(own * 1000 / count, 2),
                "cumulative_ms_per_turn": round(cumulative * 1000 / count, 2),
            }
        )
        if len(top) == limit:
            break
    return top


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--label", required=True)
    parser.add_argument("--model", required=True)
    parser.add_argument("--endpoints", required=True)
    parser.add_argument("--messages", type=int, default=100)
    parser.add_argument("--channel", default="rest")
    parser.add_argument("--via-channel", action="store_true", help="hand messages over as our channels do")
    parser.add_argument("--out", required=True)
    parser.add_argument("--prof")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    result = asyncio.run(run(args))
    Path(args.out).write_text(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
