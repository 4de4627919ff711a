"""The load: what simulated patients say, and an asynchronous REST client that says it.

Each conversation walks a fixed cycle of kinds of turn (questions from the held-out test set,
greetings, thanks, "tell me more", gibberish, an urgent symptom, and a "did you mean": a vague
word, then the payload of the first button of the reply), starting at a different place, so every
level of concurrency gets the same realistic mix. Everything is seeded: the same scripts every run.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import random
import time
from dataclasses import dataclass, field
from typing import Any, Dict, List, Sequence, Tuple

import aiohttp

from assistant import paths
from assistant.content import nlu_examples

TEST_SET = paths.WRITTEN_TEXT / "nlu_test_set.yml"
TURN_TIMEOUT_SECONDS = 120.0

GREETINGS = ["hello", "hi there", "good morning", "hey i have a question"]
THANKS = ["thanks", "thank you so much", "that helped a lot, thank you"]
FOLLOW_UPS = ["tell me more", "can you tell me more about that"]
GIBBERISH = ["qwerty zxcv", "blorp fnargle wibble", "zzkq vvvx plom"]
URGENT = [
    "I can't control my bladder and both legs are numb",
    "my wound is bleeding heavily and it won't stop",
    "I have chest pain and I can't breathe properly",
]
VAGUE = ["nerves"]
# Sent as the "did you mean" choice when the reply offered no button (the stock baseline never does).
CHOICE_WITHOUT_BUTTON = "what is the risk of nerve damage"
# Texts of the test set that are not questions (their kinds have their own lists above).
NOT_QUESTIONS = {"greet", "goodbye", "thanks"}

# One cycle of the mix: 11 questions, 3 follow-ups, 2 thanks, 2 gibberish, a greeting, an urgent
# message and a "did you mean" (two turns) in 21 turns.
CYCLE = [
    "greeting",
    "question",
    "follow_up",
    "question",
    "gibberish",
    "question",
    "vague",  # followed by "choice"
    "question",
    "follow_up",
    "thanks",
    "question",
    "urgent",
    "question",
    "question",
    "gibberish",
    "question",
    "follow_up",
    "question",
    "question",
    "thanks",
]
KINDS = ["greeting", "question", "follow_up", "gibberish", "vague", "choice", "urgent", "thanks"]


@dataclass(frozen=True)
class Step:
    kind: str
    text: str  # empty for "choice": taken from the previous reply


def questions() -> List[str]:
    return [text for intent, text in nlu_examples(TEST_SET) if intent not in NOT_QUESTIONS]


def script(rng: random.Random, turns: int, start: int, pool: Sequence[str]) -> List[Step]:
    """`turns` steps of the cycle from position `start` ("tell me more" only after an answer)."""
    texts: Dict[str, Sequence[str]] = {
        "greeting": GREETINGS,
        "thanks": THANKS,
        "follow_up": FOLLOW_UPS,
        "gibberish": GIBBERISH,
        "urgent": URGENT,
        "question": pool,
    }
    steps: List[Step] = []
    position = start
    while len(steps) < turns:
        kind = CYCLE[position % len(CYCLE)]
        position += 1
        if kind == "follow_up" and (not steps or steps[-1].kind not in ("question", "follow_up", "choice")):
            kind = "question"
        if kind == "vague":
            if len(steps) + 2 <= turns:
                steps += [Step("vague", rng.choice(VAGUE)), Step("choice", "")]
                continue
            kind = "question"
        steps.append(Step(kind, rng.choice(texts[kind])))
    return steps


def scripts(name: str, conversations: int, turns: int) -> List[List[Step]]:
    """The scripts of one level, the same every run (seeded by its name)."""
    rng = random.Random(f"bench-{name}-{conversations}-{turns}")
    pool = questions()
    offset = rng.randrange(len(CYCLE))
    return [script(rng, turns, offset + 7 * i, pool) for i in range(conversations)]


def text_for(step: Step, previous: List[Dict[str, Any]]) -> Tuple[str, bool]:
    """What to send for a step, and whether it came from a button of the previous reply."""
    if step.kind != "choice":
        return step.text, False
    for message in previous:
        for button in message.get("buttons") or []:
            if isinstance(button, dict) and button.get("payload"):
                return str(button["payload"]), True
    return CHOICE_WITHOUT_BUTTON, False


def reply_problem(replies: Any) -> str:
    """Why a 200 reply does not count as an answer ("" when it does)."""
    if not isinstance(replies, list) or not replies:
        return "empty reply"
    if not any(isinstance(m, dict) and (m.get("text") or "").strip() for m in replies):
        return "reply without text"
    return ""


@dataclass
class Turn:
    kind: str
    index: int  # 0-based position in its conversation
    seconds: float
    problem: str = ""  # "" for a good answer: else HTTP status, empty reply, or the client error
    from_button: bool = False
    reply_kind: str = ""  # our replies' metadata "kind" (the baseline has none)


@dataclass
class Result:
    name: str
    concurrency: int
    conversations: int
    turns_each: int
    wall_seconds: float = 0.0
    turns: List[Turn] = field(default_factory=list)
    load_average: Tuple[float, float, float] = (0.0, 0.0, 0.0)


async def converse(
    session: aiohttp.ClientSession, url: str, headers: Dict[str, str], sender: str, steps: List[Step]
) -> List[Turn]:
    """One patient: each message after the previous answer."""
    done: List[Turn] = []
    previous: List[Dict[str, Any]] = []
    for index, step in enumerate(steps):
        text, from_button = text_for(step, previous)
        problem, replies = "", None
        start = time.perf_counter()
        try:
            async with session.post(url, json={"sender": sender, "message": text}, headers=headers) as r:
                body = await r.read()
                status = r.status
            seconds = time.perf_counter() - start
            if status != 200:
                problem = f"HTTP {status}"
            else:
                with contextlib.suppress(ValueError):
                    replies = json.loads(body)
                problem = reply_problem(replies)
        except (aiohttp.ClientError, asyncio.TimeoutError) as error:
            seconds = time.perf_counter() - start
            problem = f"{type(error).__name__}"
        previous = replies if isinstance(replies, list) and not problem else []
        kinds = [(m.get("metadata") or {}).get("kind", "") for m in previous if isinstance(m, dict)]
        done.append(Turn(step.kind, index, seconds, problem, from_button, ",".join(k for k in kinds if k)))
    return done


async def run_level(
    name: str,
    url: str,
    headers: Dict[str, str],
    conversations: List[List[Step]],
    concurrency: int,
    sender_prefix: str,
) -> Result:
    """All `conversations`, `concurrency` of them at a time (each one message in flight)."""
    result = Result(name, concurrency, len(conversations), max((len(c) for c in conversations), default=0))
    result.load_average = _load_average()
    pending = list(enumerate(conversations))
    timeout = aiohttp.ClientTimeout(total=TURN_TIMEOUT_SECONDS)
    connector = aiohttp.TCPConnector(limit=concurrency, force_close=False)
    async with aiohttp.ClientSession(timeout=timeout, connector=connector) as session:

        async def worker() -> None:
            while pending:
                number, steps = pending.pop(0)
                sender = f"{sender_prefix}-{name}-{number}"
                turns = await converse(session, url, headers, sender, steps)
                result.turns.extend(turns)

        start = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        result.wall_seconds = time.perf_counter() - start
    return result


def _load_average() -> Tuple[float, float, float]:
    try:
        with open("/proc/loadavg") as f:
            a, b, c = f.read().split()[:3]
        return float(a), float(b), float(c)
    except (OSError, ValueError):
        return (0.0, 0.0, 0.0)


# --- statistics ------------------------------------------------------------------------------------
def percentile(values: Sequence[float], q: float) -> float | None:
    """The q-th percentile (0-100), linearly interpolated; None without values."""
    ordered = sorted(values)
    if not ordered:
        return None
    rank = (len(ordered) - 1) * q / 100
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def ms(value: float | None) -> float | None:
    return None if value is None else round(value * 1000, 1)


def summary(result: Result) -> Dict[str, Any]:
    """Latency percentiles (of answered turns), throughput and errors of one level."""
    good = [t.seconds for t in result.turns if not t.problem]
    problems: Dict[str, int] = {}
    for turn in result.turns:
        if turn.problem:
            problems[turn.problem] = problems.get(turn.problem, 0) + 1
    choices = [t for t in result.turns if t.kind == "choice"]
    by_kind = {
        kind: ms(percentile([t.seconds for t in result.turns if t.kind == kind and not t.problem], 50))
        for kind in KINDS
        if any(t.kind == kind for t in result.turns)
    }
    return {
        "concurrency": result.concurrency,
        "conversations": result.conversations,
        "turns_each": result.turns_each,
        "turns": len(result.turns),
        "wall_seconds": round(result.wall_seconds, 2),
        "messages_per_second": round(len(result.turns) / result.wall_seconds, 2)
        if result.wall_seconds
        else 0,
        "p50_ms": ms(percentile(good, 50)),
        "p95_ms": ms(percentile(good, 95)),
        "p99_ms": ms(percentile(good, 99)),
        "max_ms": ms(max(good, default=None)),
        "errors": sum(problems.values()),
        "non_200": sum(n for p, n in problems.items() if p.startswith("HTTP ")),
        "empty": sum(n for p, n in problems.items() if "reply" in p),
        "client_errors": sum(
            n for p, n in problems.items() if not p.startswith("HTTP ") and "reply" not in p
        ),
        "problems": problems,
        "unavailable_replies": sum(1 for t in result.turns if "unavailable" in t.reply_kind.split(",")),
        "did_you_mean_choices": len(choices),
        "did_you_mean_from_button": sum(1 for t in choices if t.from_button),
        "p50_ms_by_kind": by_kind,
        "load_average_at_start": list(result.load_average),
    }


def windows(turns: int) -> List[Tuple[int, int]]:
    """1-based inclusive turn windows at the start, middle and end of a long conversation:
    1-10, 146-155 and 291-300 for 300 turns."""
    width = max(1, min(10, turns // 3))
    middle = max(width + 1, turns // 2 - width // 2 + 1)
    return [(1, width), (middle, middle + width - 1), (turns - width + 1, turns)]


def long_summary(result: Result) -> Dict[str, Any]:
    """A long conversation: its summary, and the p50 of each window of turns."""
    data = summary(result)
    by_index = {t.index: t for t in result.turns}
    data["windows"] = [
        {
            "turns": f"{first}-{last}",
            "p50_ms": ms(
                percentile(
                    [
                        by_index[i].seconds
                        for i in range(first - 1, last)
                        if i in by_index and not by_index[i].problem
                    ],
                    50,
                )
            ),
        }
        for first, last in windows(len(result.turns))
    ]
    return data


def profile_messages(count: int) -> List[List[Step]]:
    """The mix, as conversations of 10 turns, for profile_turn.py."""
    return scripts("profile", max(1, math.ceil(count / 10)), min(10, count))
