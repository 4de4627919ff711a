"""NLU on a thread of its own, so that the Rasa server uses a second core.

Rasa runs the NLU pipeline inside `MessageProcessor.parse_message`, synchronously, on the event
loop: while one message is being understood, no other patient's turn moves. The largest part of
that time is the sentence encoder, one TensorFlow graph that runs without holding the GIL
(nlu/minilm.py). On one worker thread, the pipeline of one message overlaps with the rest
of other turns (HTTP, policies, tracker store, action calls) on the loop. One thread, so that the
pipeline's components never run twice at once: they were written for Rasa's one-at-a-time calls.

Installed by `rasa_patches.install()` when Rasa loads the model, in
every mode (`rasa run`, `rasa shell`, the HTTP API's /model/parse). Servers that share their cores
with other servers gain nothing from it and lose to the extra switching: NLU_THREAD=off (the
local cluster, two servers on one machine, sets it). Measured with the bench's load: one server
on 2 cores, 40 -> 46 messages/s at 8 concurrent conversations; two servers on the same 2 cores,
59 -> 51 at 32.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Dict

from rasa.core.channels.channel import UserMessage
from rasa.core.processor import MessageProcessor
from rasa.shared.core.trackers import DialogueStateTracker

from assistant.settings import nlu_on_its_own_thread

_rasa_parse_message = MessageProcessor.parse_message
_nlu_thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="nlu")


async def _parse_message_on_the_nlu_thread(
    self: MessageProcessor,
    message: UserMessage,
    tracker: DialogueStateTracker | None = None,
    only_output_properties: bool = True,
) -> Dict[str, Any]:
    """Rasa's parse_message with the pipeline run on the NLU thread. (Rasa's debug log of the
    parsed text is left out: it would hold what the patient wrote.)"""
    if self.http_interpreter:  # NLU on another server: nothing to move
        return await _rasa_parse_message(self, message, tracker, only_output_properties)
    if tracker is None:
        tracker = DialogueStateTracker.from_events(message.sender_id, [])
    parse = functools.partial(
        contextvars.copy_context().run,
        self._parse_message_with_graph,
        message,
        tracker,
        only_output_properties,
    )
    parse_data: Dict[str, Any] = await asyncio.get_running_loop().run_in_executor(_nlu_thread, parse)
    self._update_full_retrieval_intent(parse_data)
    self._check_for_unseen_features(parse_data)
    return parse_data


def install() -> None:
    """Idempotent: Rasa's MessageProcessor parses on the NLU thread from now on (unless
    NLU_THREAD=off)."""
    if nlu_on_its_own_thread():
        MessageProcessor.parse_message = _parse_message_on_the_nlu_thread
