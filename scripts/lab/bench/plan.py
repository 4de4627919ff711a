"""How much load each mode sends: the full benchmark and the smoke run that `make test` uses."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Dict, Tuple


@dataclass(frozen=True)
class Level:
    """`concurrency` conversations at a time, `conversations` in all, `turns` messages each."""

    concurrency: int
    conversations: int
    turns: int

    @property
    def name(self) -> str:
        return f"c{self.concurrency}"


@dataclass(frozen=True)
class Plan:
    smoke: bool
    levels: Tuple[Level, ...]
    long_turns: int
    cluster_levels: Tuple[Level, ...]
    profile_messages: int
    # turns of the mix each system gets after its first reply and before anything is measured:
    # TensorFlow and Rasa prepare parts of their work at the first messages of each kind
    warm_up_conversations: int
    # every `epochs` of the stock configuration set to this (None: as `rasa init` writes them)
    baseline_epochs: int | None = None

    def as_dict(self) -> Dict[str, Any]:
        return asdict(self)


# Sized for about 10-15 minutes in all on a 2-core machine (both systems and the cluster), once
# the baseline model is cached. The baseline trains 10 epochs, not `rasa init`'s 100: on our data
# its DIET takes about 25 s an epoch here, so 100 would be most of an hour (`--baseline-epochs
# stock` trains them all). How many epochs a model trained changes nothing that is measured
# here but its training time: the same layers run for every message.
FULL = Plan(
    smoke=False,
    levels=(Level(1, 10, 12), Level(8, 32, 12), Level(32, 96, 10)),
    long_turns=300,
    cluster_levels=(Level(8, 32, 12), Level(32, 96, 10)),
    profile_messages=100,
    warm_up_conversations=4,
    baseline_epochs=10,
)

# A few turns of each kind, to prove that the harness works (the `make test` line).
SMOKE = Plan(
    smoke=True,
    levels=(Level(1, 1, 8), Level(2, 2, 5)),
    long_turns=10,
    cluster_levels=(),
    profile_messages=10,
    warm_up_conversations=1,
    baseline_epochs=1,
)
