"""The baseline: stock Rasa with the configuration `rasa init` writes, trained on our data and
domain, cached in build/bench/ under a hash of its inputs (with its training time beside it).

`rasa init` writes its default pipeline and policies as comments (the defaults Rasa fills in
when a configuration names none); they are read from there, uncommented, so that a run can set
every `epochs` (1 in the smoke run, 10 in the full one: see plan.py). `rasa init` is stopped
once it has written the project (it would train its example bot next), and its config.yml is
kept per Rasa version.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List

import yaml

from assistant import paths
from scripts.processes import stop_group

BENCH_DIR = paths.PROJECT_ROOT / "build" / "bench"
BIN = Path(sys.executable).parent
DOMAIN = paths.DOMAIN
DATA = [paths.PROJECT_ROOT / "data" / name for name in ("nlu.yml", "rules.yml", "stories.yml")]
INIT_TIMEOUT_SECONDS = 600
PROJECT_WRITTEN = "Finished creating project structure"


def rasa_version() -> str:
    return importlib.metadata.version("rasa")


def rasa_init_config(env: Dict[str, str]) -> str:
    """The config.yml that `rasa init --no-prompt` writes (run once per Rasa version)."""
    kept = BENCH_DIR / f"rasa-init-{rasa_version()}" / "config.yml"
    if kept.exists():
        return kept.read_text(encoding="utf-8")
    with tempfile.TemporaryDirectory(prefix="bench-rasa-init-") as tmp:
        process = subprocess.Popen(
            [str(BIN / "rasa"), "init", "--no-prompt"],
            cwd=tmp,
            env={**env, "PYTHONUNBUFFERED": "1"},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        output: List[str] = []
        deadline = time.monotonic() + INIT_TIMEOUT_SECONDS
        try:
            assert process.stdout is not None
            for raw in process.stdout:
                output.append(raw.decode("utf-8", "replace"))
                if PROJECT_WRITTEN in output[-1] or time.monotonic() > deadline:
                    break
        finally:
            stop_group(process)
        config = Path(tmp) / "config.yml"
        if not config.exists():
            raise RuntimeError("`rasa init --no-prompt` wrote no config.yml:\n" + "".join(output)[-3000:])
        kept.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(config, kept)
    return kept.read_text(encoding="utf-8")


def uncommented(config_text: str) -> Dict[str, Any]:
    """The configuration with the default pipeline and policies that `rasa init` leaves as
    comments ("#   - name: ..." and their settings) made real."""
    lines = [line[2:] if line.startswith("#   ") else line for line in config_text.splitlines()]
    config = yaml.safe_load("\n".join(lines))
    if not config.get("pipeline") or not config.get("policies"):
        raise RuntimeError("rasa init's config.yml no longer lists its defaults as comments: see baseline.py")
    return dict(config)


def stock_config(env: Dict[str, str], epochs: int | None = None) -> Dict[str, Any]:
    """The stock configuration; with `epochs`, every `epochs` setting replaced by it."""
    config = uncommented(rasa_init_config(env))
    if epochs is not None:
        for item in [*config["pipeline"], *config["policies"]]:
            if "epochs" in item:
                item["epochs"] = epochs
    return config


@dataclass
class BaselineModel:
    path: Path
    config: Path
    meta: Dict[str, Any]
    cached: bool


def inputs_digest(config_text: str) -> str:
    digest = hashlib.sha256(f"rasa {rasa_version()}\n{config_text}".encode())
    for path in [DOMAIN, *DATA]:
        digest.update(f"\n--- {path.name}\n".encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def ensure_model(env: Dict[str, str], epochs: int | None = None) -> BaselineModel:
    """The trained baseline for these inputs: from the cache, or trained now (and timed)."""
    config = stock_config(env, epochs)
    config_text = yaml.safe_dump(config, sort_keys=False)
    stem = f"baseline-{'stock' if epochs is None else f'{epochs}-epochs'}-{inputs_digest(config_text)[:12]}"
    model, meta_path, config_path = (
        BENCH_DIR / f"{stem}{ext}" for ext in (".tar.gz", ".json", ".config.yml")
    )
    if model.exists() and meta_path.exists():
        return BaselineModel(model, config_path, json.loads(meta_path.read_text()), cached=True)
    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    config_path.write_text(config_text, encoding="utf-8")
    log = BENCH_DIR / f"{stem}.train.log"
    print(f"Training the baseline ({stem}); log: {log.relative_to(paths.PROJECT_ROOT)}", flush=True)
    with tempfile.TemporaryDirectory(prefix="bench-train-") as tmp, log.open("wb") as out:
        start = time.monotonic()
        trained = subprocess.run(
            [
                str(BIN / "rasa"),
                "train",
                "--config",
                str(config_path),
                "--domain",
                str(DOMAIN),
                "--data",
                *map(str, DATA),
                "--out",
                str(BENCH_DIR),
                "--fixed-model-name",
                stem,
            ],
            cwd=tmp,
            env={**env, "RASA_CACHE_DIRECTORY": str(Path(tmp) / "cache")},  # no help from earlier runs
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        seconds = time.monotonic() - start
    if trained.returncode != 0 or not model.exists():
        tail = log.read_text(errors="replace")[-3000:]
        raise RuntimeError(f"training the baseline failed (exit code {trained.returncode}):\n{tail}")
    meta = {
        "training_seconds": round(seconds, 1),
        "trained_at": time.strftime("%Y-%m-%d %H:%M:%S"),
        "rasa_version": rasa_version(),
        "epochs_override": epochs,
        "config": config,
        "inputs": [str(p.relative_to(paths.PROJECT_ROOT)) for p in [DOMAIN, *DATA]],
        "cpus": os.cpu_count(),
    }
    meta_path.write_text(json.dumps(meta, indent=2))
    return BaselineModel(model, config_path, meta, cached=False)
