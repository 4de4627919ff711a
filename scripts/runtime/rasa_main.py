"""The Rasa server as `make run` and `make shell` start it: Rasa's own command line
(`python -m scripts.runtime.rasa_main run|shell <rasa's arguments>`), with one difference: the
HTTP API's token is read from RASA_API_TOKEN here, in the process, and given to Rasa as its
arguments inside it, so that it never appears on a command line (`ps` shows every user those).

And the deprecation warnings Rasa's dependencies print about each other (SQLAlchemy,
pkg_resources, pyparsing, click ... about twenty before the shell's prompt) are not shown: they
are for those projects' developers, not for clinic staff. A warning filter would not hold (a
dependency, aiogram, resets the filters when Rasa loads its channels), so they are dropped where
they are shown; warnings from our own code still are.
"""

from __future__ import annotations

import os
import sys
import warnings
from typing import Any

TOKEN_VARIABLE = "RASA_API_TOKEN"


def rasa_arguments(args: list, env: dict) -> list:
    """Rasa's arguments: the HTTP API on, with its token, when RASA_API_TOKEN is set (run only)."""
    token = env.get(TOKEN_VARIABLE, "")
    if token and args[:1] == ["run"]:
        return [*args, "--enable-api", "--auth-token", token]
    return list(args)


DEPENDENCY_NOISE = (DeprecationWarning, PendingDeprecationWarning, FutureWarning)
_show = warnings.showwarning


def show_warning(message: Any, category: Any, filename: str, *args: Any, **kwargs: Any) -> None:
    if issubclass(category, DEPENDENCY_NOISE) and "site-packages" in filename:
        return
    _show(message, category, filename, *args, **kwargs)


def main() -> None:
    warnings.showwarning = show_warning
    os.environ.setdefault("SQLALCHEMY_SILENCE_UBER_WARNING", "1")  # SQLAlchemy 2.0's, likewise
    args = rasa_arguments(sys.argv[1:], dict(os.environ))
    os.environ.pop(TOKEN_VARIABLE, None)  # not passed on to anything Rasa starts
    from rasa.__main__ import main as rasa

    sys.argv = ["rasa", *args]  # this process's own copy: /proc/<pid>/cmdline keeps the original
    rasa()


if __name__ == "__main__":
    main()
