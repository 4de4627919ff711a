"""Timers wrapped around Rasa's methods for the bench's profile of one turn
(scripts/lab/bench/profile_turn.py). Never installed by `install()`: only the profiler calls these, in
its own process."""

from __future__ import annotations

import time
from collections import defaultdict
from typing import Any, Callable, DefaultDict


class Timers:
    """Wall-clock seconds per name, and the stage (NLU or policy) the graph is running for."""

    def __init__(self) -> None:
        self.seconds: DefaultDict[str, float] = defaultdict(float)
        self.calls: DefaultDict[str, int] = defaultdict(int)
        self.stage = "other"

    def add(self, name: str, seconds: float) -> None:
        self.seconds[name] += seconds
        self.calls[name] += 1

    def reset(self) -> None:
        self.seconds.clear()
        self.calls.clear()


TIMERS = Timers()


def time_coroutine(owner: Any, attribute: str, name: str) -> Callable:
    """Replace owner.attribute (a coroutine function or bound method) with a timed one."""
    original = getattr(owner, attribute)
    is_class = isinstance(owner, type)

    async def timed(*args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        previous, TIMERS.stage = TIMERS.stage, name
        try:
            return await original(*args, **kwargs)
        finally:
            TIMERS.stage = previous
            TIMERS.add(name, time.perf_counter() - start)

    setattr(owner, attribute, timed)
    return original if is_class else getattr(original, "__func__", original)


def time_function(owner: type, attribute: str, name: str) -> Callable:
    original = getattr(owner, attribute)

    def timed(*args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        previous, TIMERS.stage = TIMERS.stage, name
        try:
            return original(*args, **kwargs)
        finally:
            TIMERS.stage = previous
            TIMERS.add(name, time.perf_counter() - start)

    setattr(owner, attribute, timed)
    return original


def time_graph_nodes() -> Callable:
    """Each graph node's run, named "<stage>:<node>" (stage: nlu or policy)."""
    from rasa.engine.graph import GraphNode

    original = GraphNode.__call__

    def timed(self: Any, *inputs: Any) -> Any:
        start = time.perf_counter()
        try:
            return original(self, *inputs)
        finally:
            TIMERS.add(f"{TIMERS.stage}:{getattr(self, '_node_name', '?')}", time.perf_counter() - start)

    GraphNode.__call__ = timed
    return original
