"""The action server: our actions (this package) behind rasa-sdk's executor, served the way a
clinic needs it (`python -m actions.server`).

Unlike `rasa run actions`, it listens on loopback unless told otherwise (ACTION_SERVER_HOST),
answers only the Rasa server (every call must carry `Authorization: Bearer <ACTION_SERVER_TOKEN>`,
compared in constant time), allows no cross-origin calls, caps request bodies (compressed ones
too), and never echoes a request or its message text, in a reply or in a log.
"""

from __future__ import annotations

import argparse
import hmac
import json
import logging
import os
import zlib
from typing import Any

from rasa_sdk.executor import ActionExecutor
from rasa_sdk.interfaces import ActionExecutionRejection, ActionNotFoundException
from sanic import Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse

from assistant.profile import refuse_placeholder_secrets

logger = logging.getLogger("actions.server")

MAX_BODY_BYTES = 8 * 1024 * 1024  # an action call carries the conversation's recent events
TOKEN_VARIABLE = "ACTION_SERVER_TOKEN"


class BadCall(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def action_call(request: Request) -> Any:
    """The JSON an action call carries; inflated with a cap when it is deflate-encoded."""
    body = request.body
    encoding = request.headers.get("Content-Encoding", "identity").lower()
    if encoding == "deflate":
        inflater = zlib.decompressobj()
        body = inflater.decompress(body, MAX_BODY_BYTES)
        if inflater.unconsumed_tail:
            raise BadCall(413, "the inflated body is too large")
    elif encoding != "identity":
        raise BadCall(415, f"unsupported Content-Encoding {encoding!r}")
    try:
        return json.loads(body)
    except ValueError as error:
        raise BadCall(400, "the body is not JSON") from error


def create_app(token: str) -> Sanic:
    if not token:
        raise SystemExit(f"{TOKEN_VARIABLE} is not set: the action server answers only the Rasa server.")
    app = Sanic("patient_actions", configure_logging=False)
    app.config.REQUEST_MAX_SIZE = MAX_BODY_BYTES
    executor = ActionExecutor()
    executor.register_package("actions")
    expected = f"Bearer {token}".encode()

    def authorised(request: Request) -> bool:
        given = request.headers.get("Authorization", "").encode("utf-8")
        return hmac.compare_digest(given, expected)

    @app.get("/health")
    async def health(_: Request) -> HTTPResponse:
        return response.json({"status": "ok"})

    @app.post("/webhook")
    async def webhook(request: Request) -> HTTPResponse:
        if not authorised(request):
            return response.json({"error": "missing or wrong Authorization token"}, status=401)
        call: Any = None
        try:
            call = action_call(request)
            if not isinstance(call, dict) or not call.get("next_action"):
                raise BadCall(400, "an action call needs next_action and a tracker")
            result = await executor.run(call)
        except BadCall as error:
            return response.json({"error": str(error)}, status=error.status)
        except ActionNotFoundException as error:
            return response.json({"error": "unknown action", "action_name": error.action_name}, status=404)
        except ActionExecutionRejection as error:
            return response.json({"error": "rejected", "action_name": error.action_name}, status=400)
        except Exception as error:
            # The conversation id and the error type only: never the message text.
            sender = call.get("sender_id") if isinstance(call, dict) else None
            logger.error("Action failed for conversation %s: %s", sender, type(error).__name__)
            return response.json({"error": "the action failed"}, status=500)
        return response.json(result)

    @app.get("/actions")
    async def actions(request: Request) -> HTTPResponse:
        if not authorised(request):
            return response.json({"error": "missing or wrong Authorization token"}, status=401)
        return response.json([{"name": name} for name in executor.actions])

    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default=os.environ.get("ACTION_SERVER_HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("ACTION_SERVER_PORT", "5055")))
    args = parser.parse_args()
    refuse_placeholder_secrets(os.environ)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    app = create_app(os.environ.get(TOKEN_VARIABLE, ""))
    logger.info("Action server listening on %s:%d", args.host, args.port)
    app.run(host=args.host, port=args.port, workers=1, access_log=False)


if __name__ == "__main__":
    main()
