"""`make bench` (python -m scripts.lab.bench [--smoke]): run the whole benchmark and write the report.

One system at a time, so that they do not compete for the CPUs: the baseline model (trained or
from build/bench/), our servers (load at each concurrency, the long conversation, memory, then the
in-process profile against our running action server), the same for the baseline, then the
production profile's local cluster when PostgreSQL, Redis and HAProxy are installed (not in the
smoke run). Every process started here is stopped on the way out, also on Ctrl-C or SIGTERM.

The smoke run fails (exit code 1) when any turn fails; both runs fail when a part could not run.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import glob
import json
import os
import platform
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Dict, List

from assistant import paths
from scripts.lab.bench import baseline, load, report
from scripts.lab.bench.plan import FULL, SMOKE, Level, Plan
from scripts.lab.bench.servers import (
    MAKE_ENV,
    Baseline,
    Ours,
    System,
    base_env,
    clinic_env,
    log_tail,
    peak_rss_mb,
)

ROOT = paths.PROJECT_ROOT
MODEL = ROOT / "models" / "spine-faq.tar.gz"
REPORTS = ROOT / "reports"
OUR_TRAIN_TIME = ROOT / "build" / "train-time.json"
CLUSTER_PROGRAMS = ("haproxy", "redis-server", "runuser")
PROFILE_TIMEOUT_SECONDS = 900


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", flush=True)


def mb(path: Path) -> float:
    return round(path.stat().st_size / 1e6, 1)


def our_training_time() -> str:
    """From build/train-time.json, which `make train` writes when it trains."""
    try:
        return f"{json.loads(OUR_TRAIN_TIME.read_text())['seconds']:.0f} s"
    except (OSError, ValueError, KeyError, TypeError):
        return "not measured (make train writes it when it trains)"


def git_state() -> Dict[str, Any]:
    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True)
        return done.stdout.strip()

    return {
        "commit": git("rev-parse", "--short", "HEAD") or "unknown",
        "dirty": bool(git("status", "--porcelain")),
    }


def machine() -> Dict[str, Any]:
    cpu = platform.processor() or "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpus": os.cpu_count(),
        "cpu": cpu,
        "load_average_at_start": " ".join(f"{x:.2f}" for x in os.getloadavg()),
        "python": platform.python_version(),
    }


async def drive(
    system_url: str, headers: Dict[str, str], label: str, levels: List[Level], run_id: str
) -> Dict:
    """Each level of concurrency in turn, then nothing else."""
    summaries = {}
    for level in levels:
        conversations = load.scripts(level.name, level.conversations, level.turns)
        result = await load.run_level(
            level.name, system_url, headers, conversations, level.concurrency, f"b{run_id}-{label}"
        )
        summaries[level.name] = load.summary(result)
        s = summaries[level.name]
        log(
            f"{label} c={level.concurrency}: {s['turns']} turns in {s['wall_seconds']:.1f} s, "
            f"{s['messages_per_second']}/s, p50 {s['p50_ms']} ms, p95 {s['p95_ms']} ms, errors {s['errors']}"
        )
    return summaries


async def drive_long(system: System, turns: int, run_id: str) -> Dict:
    conversation = load.scripts("long", 1, turns)
    result = await load.run_level(
        "long", system.webhook, system.headers, conversation, 1, f"b{run_id}-{system.label}"
    )
    summary = load.long_summary(result)
    log(
        f"{system.label} long conversation: {summary['turns']} turns, p50 by window "
        + ", ".join(f"{w['turns']}: {w['p50_ms']} ms" for w in summary["windows"])
        + f", errors {summary['errors']}"
    )
    return summary


def warm_up(url: str, headers: Dict[str, str], plan: Plan, prefix: str, per_node: int = 1) -> None:
    """The mix, unmeasured (with several nodes, enough conversations to reach each)."""
    conversations = load.scripts("warm-up", plan.warm_up_conversations * per_node, 10)
    result = asyncio.run(load.run_level("warm-up", url, headers, conversations, per_node, prefix))
    log(f"warmed up with {len(result.turns)} turns")


def run_profile(
    label: str, model: Path, endpoints: Path, env: Dict[str, str], plan: Plan, home: Path
) -> Dict:
    out, out_log = home / f"profile-{label}.json", home / f"profile-{label}.log"
    prof = REPORTS / f"bench-profile-{label}.prof"
    REPORTS.mkdir(exist_ok=True)
    args = [
        sys.executable,
        "-m",
        "scripts.lab.bench.profile_turn",
        "--label",
        label,
        "--model",
        str(model),
        "--endpoints",
        str(endpoints),
        "--messages",
        str(plan.profile_messages),
        "--out",
        str(out),
        "--prof",
        str(prof),
    ]
    if label == "ours":
        args.append("--via-channel")
    log(f"{label}: profiling {plan.profile_messages} turns in-process")
    with out_log.open("wb") as output:
        done = subprocess.run(
            args, cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT, timeout=PROFILE_TIMEOUT_SECONDS
        )
    if done.returncode != 0 or not out.exists():
        raise RuntimeError(
            f"profile_turn for {label} failed (exit code {done.returncode}):\n{log_tail(out_log)}"
        )
    profile = json.loads(out.read_text())
    profile["prof_file"] = str(prof.relative_to(ROOT))
    wall = profile["wall_ms_per_turn"]
    log(
        f"{label} turn: {wall['total']} ms = NLU {wall['nlu']} + policy {wall['policy']} + action "
        f"{wall['action_server']} + retrieve {wall['tracker_retrieve']} + save {wall['tracker_save']} "
        f"+ rest {wall['rest']}"
    )
    return profile


def measure(system: System, plan: Plan, run_id: str, failures: List[str]) -> Dict[str, Any]:
    """Start a system, load it, read its memory, profile a turn, stop it."""
    data: Dict[str, Any] = {}
    log(f"{system.label}: starting")
    try:
        system.start()
        data["ready_seconds"] = round(system.ready_seconds or 0, 1)
        log(f"{system.label}: first REST reply {data['ready_seconds']} s after start")
        warm_up(system.webhook, system.headers, plan, f"b{run_id}-{system.label}")
        data["levels"] = asyncio.run(
            drive(system.webhook, system.headers, system.label, list(plan.levels), run_id)
        )
        data["long"] = asyncio.run(drive_long(system, plan.long_turns, run_id))
        data["pids"] = system.pids()
        data["peak_rss_mb"] = system.peak_rss_mb()
        log(f"{system.label}: peak RSS {data['peak_rss_mb']}")
        try:
            data["profile"] = profile_system(system, plan)
        except (RuntimeError, subprocess.TimeoutExpired) as error:
            failures.append(f"{system.label}: the in-process profile failed: {str(error)[:2000]}")
            log(failures[-1])
    finally:
        system.stop()
    return data


def profile_system(system: System, plan: Plan) -> Dict:
    if isinstance(system, Ours):
        endpoints = system.endpoints_copy(
            system.home / "profile-tracker.db", system.home / "profile-endpoints.yml"
        )
        env = {
            **system.env,
            "ACTION_SERVER_URL": system.action_url,
            "ASSISTANT_VAR": str(system.home / "profile-var"),
            # cProfile sees only the thread it runs on: NLU on the event loop, as Rasa runs it
            "NLU_THREAD": "off",
        }
        return run_profile("ours", system.model, endpoints, env, plan, system.home)
    assert isinstance(system, Baseline)
    return run_profile("baseline", system.model, system.endpoints, system.env, plan, system.home)


def cluster_missing() -> List[str]:
    missing = [p for p in CLUSTER_PROGRAMS if not shutil.which(p, path="/usr/sbin:/usr/bin:/sbin:/bin")]
    if not glob.glob("/usr/lib/postgresql/*/bin/postgres"):
        missing.append("postgres")
    return missing


def measure_cluster(plan: Plan, home: Path, run_id: str) -> Dict[str, Any]:
    """Concurrency through HAProxy in front of two nodes (PostgreSQL, Redis), as `make cluster`."""
    from scripts.runtime.cluster import NODES, LocalCluster, Ports

    data: Dict[str, Any] = {"topology": f"HAProxy, {NODES} nodes, PostgreSQL, Redis"}
    extra = {**clinic_env(), "REVIEW_DB": str(home / "unused-review.db")}
    cluster = LocalCluster(home, Ports.free(), extra_env=extra)
    log("cluster: starting PostgreSQL, Redis, two nodes and HAProxy")
    try:
        start = time.monotonic()
        cluster.start()
        headers = {"Authorization": f"Bearer {cluster.secrets['REST_API_KEY']}"}
        webhook = f"{cluster.proxy_url}/webhooks/rest/webhook"
        first = [[load.Step("greeting", "hello")]]
        asyncio.run(load.run_level("first", webhook, headers, first, 1, f"b{run_id}-cluster"))
        data["ready_seconds"] = round(time.monotonic() - start, 1)
        warm_up(webhook, headers, plan, f"b{run_id}-cluster", per_node=NODES)
        data["levels"] = asyncio.run(drive(webhook, headers, "cluster", list(plan.cluster_levels), run_id))
        data["peak_rss_mb"] = {
            f"node-{i + 1}_rasa_server": peak_rss_mb(cluster.rasa_pid(i)) for i in range(NODES)
        }
    finally:
        cluster.stop()
        pointer = home / "postgres-dir"  # as root, PostgreSQL's data are outside `home`
        if pointer.exists():
            directory = Path(pointer.read_text().strip())
            if directory.name.startswith("assistant-postgres-") and directory.parent == Path(
                tempfile.gettempdir()
            ):
                shutil.rmtree(directory, ignore_errors=True)
    return data


def total_errors(results: Dict[str, Any]) -> int:
    count = 0
    for system in results["systems"].values():
        count += sum(level["errors"] for level in system.get("levels", {}).values())
        count += (system.get("long") or {}).get("errors", 0)
    count += sum(level["errors"] for level in (results.get("cluster") or {}).get("levels", {}).values())
    return count


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--smoke", action="store_true", help="a few turns of each part, to check the harness")
    parser.add_argument("--no-cluster", action="store_true", help="skip the production profile's cluster")
    parser.add_argument(
        "--baseline-epochs",
        help="epochs of every part of the baseline: a number, or 'stock' for rasa init's (see plan.py)",
    )
    args = parser.parse_args()
    plan = SMOKE if args.smoke else FULL
    if args.baseline_epochs:
        epochs = None if args.baseline_epochs == "stock" else int(args.baseline_epochs)
        plan = dataclasses.replace(plan, baseline_epochs=epochs)
    for name, value in MAKE_ENV.items():
        os.environ.setdefault(name, value)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # unwinds through every `finally`

    started = time.monotonic()
    run_id = secrets.token_hex(3)
    results: Dict[str, Any] = {
        "started_at": time.strftime("%Y-%m-%d %H:%M:%S"),
        "plan": plan.as_dict(),
        "git": git_state(),
        "machine": machine(),
        "systems": {},
        "cluster": {},
        "notes": [],
    }
    notes: List[str] = results["notes"]
    failures: List[str] = []
    if not MODEL.exists():
        log(f"{MODEL} is missing: make train")
        return 1

    trained = baseline.ensure_model(base_env(), plan.baseline_epochs)
    training = f"{trained.meta['training_seconds']:.0f} s"
    if plan.baseline_epochs is not None:
        training += f" (every epochs = {plan.baseline_epochs})"
    log(
        f"baseline model {trained.path.name} ({'cached' if trained.cached else 'trained now'}, "
        f"trained in {trained.meta['training_seconds']} s)"
    )
    notes.append(
        f"baseline: `rasa init`'s default pipeline and policies ({trained.config.relative_to(ROOT)}), "
        f"trained on data/nlu.yml, rules.yml, stories.yml and domain.yml; model "
        f"{trained.path.relative_to(ROOT)} ({'from the cache' if trained.cached else 'trained in this run'}, "
        f"on {trained.meta['trained_at']}); "
        "`rasa run` with the stock REST channel and in-memory tracker store, and a rasa-sdk action server "
        "replying with `utter_<intent>` + the disclaimer (scripts/lab/bench/baseline_actions.py)"
    )
    notes.append(
        "ours: `python -m scripts.runtime.supervise run` with a temporary ASSISTANT_VAR and SQLite "
        "tracker store, REST_API_KEY and RASA_API_TOKEN set, the example clinic's settings"
    )
    levels = ", ".join(
        f"c={lv.concurrency}: {lv.conversations} conversations x {lv.turns} turns" for lv in plan.levels
    )
    notes.append(
        f"load: {levels}; one conversation of {plan.long_turns} turns; {plan.profile_messages} "
        "turns profiled in-process per system; before any of it, each system (and the cluster) "
        f"answers {plan.warm_up_conversations} conversations of 10 turns of the same mix, unmeasured"
    )
    notes.append(
        "mix per conversation: test-set questions, greetings, thanks, 'tell me more', gibberish, an urgent "
        "symptom, and 'nerves' followed by the payload of the reply's first button (the baseline offers no "
        f"buttons: it gets '{load.CHOICE_WITHOUT_BUTTON}' instead)"
    )

    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        home = Path(tmp)
        ours = Ours(home / "ours", MODEL)
        ours.home.mkdir()
        data = measure(ours, plan, run_id, failures)
        data["training"] = our_training_time()
        data["model_mb"] = mb(MODEL)
        data["model"] = str(MODEL.relative_to(ROOT))
        results["systems"]["ours"] = data

        base = Baseline(home / "baseline", trained.path)
        base.home.mkdir()
        data = measure(base, plan, run_id, failures)
        data["training"] = training
        data["model_mb"] = mb(trained.path)
        data["model"] = str(trained.path.relative_to(ROOT))
        results["systems"]["baseline"] = data

        if not plan.cluster_levels or args.no_cluster:
            notes.append("production profile (cluster): not run in this mode")
        elif missing := cluster_missing():
            notes.append(
                f"production profile (cluster): skipped, {', '.join(missing)} missing "
                "(apt-get install postgresql redis-server haproxy)"
            )
        else:
            try:
                results["cluster"] = measure_cluster(plan, home / "cluster", run_id)
                notes.append(
                    "production profile: `scripts.runtime.cluster.LocalCluster` on free ports, ready "
                    "(PostgreSQL to the first reply through HAProxy) in "
                    f"{results['cluster']['ready_seconds']} s"
                )
            except (RuntimeError, SystemExit, OSError, subprocess.SubprocessError) as error:
                failures.append(f"the cluster part failed: {str(error)[:2000]}")
                log(failures[-1])

    for name in ("ours", "baseline"):
        profile = results["systems"][name].get("profile")
        if profile and profile.get("prof_file"):
            notes.append(
                f"{name}: cProfile of the profiled pass in {profile['prof_file']} (pstats, snakeviz)"
            )
    if (results["systems"]["ours"].get("profile") or {}).get("via_channel"):
        notes.append(
            "ours, in-process: messages handed over through channels.inbound.hand_over, as REST does, "
            "with NLU on the event loop (NLU_THREAD=off: cProfile sees only its own thread)"
        )
    errors = total_errors(results)
    if errors:
        notes.append(f"{errors} turns failed (see bench.json, `problems`)")
    results["failures"] = failures
    results["wall_seconds"] = round(time.monotonic() - started, 1)
    text = report.write(results, REPORTS)
    print("\n" + text, flush=True)
    log(f"written {REPORTS / 'bench.md'} and {REPORTS / 'bench.json'} in {results['wall_seconds']:.0f} s")
    if not (REPORTS / "bench.md").exists() or not (REPORTS / "bench.json").exists():
        return 1
    for failure in failures:
        log(f"FAILED: {failure.splitlines()[0]}")
    if errors:
        log(f"{'FAILED' if plan.smoke else 'WARNING'}: {errors} turns had no proper answer")
    return 1 if failures or (plan.smoke and errors) else 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        print("\n[bench] interrupted; every server started here was stopped", file=sys.stderr)
        sys.exit(130)
