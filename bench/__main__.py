"""`make bench`: reply latency, memory and training time, against a bare Rasa baseline.

App environment. In one run it trains Welcome Desk's model and a bare `rasa init` model,
starts both, sends the same number of scripted messages over the REST channel to each,
and writes reports/bench.json. Numbers are compared within the run, never across machines.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import aiohttp

from tests.support.stack import REPO, Stack, build_sample_directory, free_port

RASA = REPO / ".venv" / "rasa" / "bin" / "rasa"
REPORT = REPO / "reports" / "bench.json"

# What newcomers send, in German and English, over several turns.
WELCOME_DESK_CONVERSATIONS = [
    ["Hallo", "Wo kann ich mich in Dortmund anmelden?", "Danke"],
    ["Hi", "I need a German course in Vienna", "thanks, bye"],
    ["Ich suche eine Wohnung", "Dortmund", "tschüss"],
    ["Where can I get health insurance in Vienna?", "are you a bot?"],
    ["Wie kann ich mein Diplom in Wien anerkennen lassen?", "ok"],
    ["I am from Ukraine, where do I register for protection in Dortmund?", "thank you"],
]
# The `rasa init` example bot's own conversations, as the baseline's mix.
BASELINE_CONVERSATIONS = [
    ["hi", "I am sad", "yes", "bye"],
    ["hello", "great", "goodbye"],
    ["hey", "very unhappy", "no", "bye"],
    ["are you a bot?", "bye"],
]


def timed_run(command: list[str], cwd: Path, env: dict[str, str]) -> float:
    """Run a command to completion (output to the terminal) and return its seconds."""
    start = time.perf_counter()
    subprocess.run(command, cwd=cwd, env=env, check=True)
    return time.perf_counter() - start


def rss_mb(pid: int) -> float:
    """Resident memory of a process and its children, in MB (Linux /proc)."""
    total_kb = 0
    pids = [pid]
    children = Path(f"/proc/{pid}/task/{pid}/children")
    if children.exists():
        pids += [int(p) for p in children.read_text().split()]
    for p in pids:
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total_kb += int(line.split()[1])
        except FileNotFoundError:
            continue
    return round(total_kb / 1024, 1)


async def converse(url: str, conversations: list[list[str]], messages: int) -> list[float]:
    """Send `messages` messages, conversation by conversation; return each reply's ms."""
    latencies: list[float] = []
    async with aiohttp.ClientSession() as http:
        while len(latencies) < messages:
            for conversation in conversations:
                sender = str(uuid.uuid4())
                for text in conversation:
                    if len(latencies) >= messages:
                        return latencies
                    start = time.perf_counter()
                    async with http.post(url, json={"sender": sender, "message": text}) as r:
                        await r.read()
                        if r.status != 200:
                            raise RuntimeError(f"{url} answered {r.status} to {text!r}")
                    latencies.append((time.perf_counter() - start) * 1000)
    return latencies


def summary(latencies: list[float]) -> dict[str, float]:
    ordered = sorted(latencies)
    return {
        "count": len(ordered),
        "p50_ms": round(statistics.median(ordered), 1),
        "p95_ms": round(ordered[int(0.95 * (len(ordered) - 1))], 1),
        "max_ms": round(ordered[-1], 1),
    }


async def wait_for_rasa(url: str, process: subprocess.Popen, seconds: int = 240) -> None:
    deadline = time.monotonic() + seconds
    async with aiohttp.ClientSession() as http:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError("the baseline Rasa server exited")
            try:
                async with http.get(f"{url}/status") as r:
                    if r.status == 200 and (await r.json()).get("model_file"):
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(1)
    raise RuntimeError("the baseline Rasa server did not load its model in time")


async def measure(work: Path, model: Path, baseline_dir: Path, messages: int) -> dict:
    stack = Stack(work / "stack", model=model)
    stack.workdir.mkdir()
    await build_sample_directory(stack.directory_db)
    port = free_port()
    # Starting a process blocks for milliseconds only; nothing else runs on this loop yet.
    baseline = subprocess.Popen(  # noqa: ASYNC220
        [str(RASA), "run", "--enable-api", "--interface", "127.0.0.1", "--port", str(port)],
        cwd=baseline_dir,
        env=stack.env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    stack.start()
    try:
        await stack.wait_until_ready()
        baseline_url = f"http://127.0.0.1:{port}"
        await wait_for_rasa(baseline_url, baseline)
        rest = "/webhooks/rest/webhook"
        # Warm up both (first calls load lazily), then measure.
        await converse(stack.rasa + rest, WELCOME_DESK_CONVERSATIONS, 10)
        await converse(baseline_url + rest, BASELINE_CONVERSATIONS, 10)
        ours = summary(await converse(stack.rasa + rest, WELCOME_DESK_CONVERSATIONS, messages))
        base = summary(await converse(baseline_url + rest, BASELINE_CONVERSATIONS, messages))
        memory = {name: rss_mb(p.pid) for name, p in stack.processes.items()}
        memory["baseline_rasa"] = rss_mb(baseline.pid)
    finally:
        stack.stop()
        baseline.terminate()
        baseline.wait(timeout=30)
    return {"welcome_desk": ours, "baseline": base, "rss_mb": memory}


def print_table(report: dict) -> None:
    ours, base = report["latency"]["welcome_desk"], report["latency"]["baseline"]
    print()
    print(f"{'reply latency (REST)':<28}{'Welcome Desk':>14}{'bare Rasa':>12}{'ratio':>8}")
    for key in ("p50_ms", "p95_ms", "max_ms"):
        ratio = ours[key] / base[key] if base[key] else float("nan")
        print(f"{key:<28}{ours[key]:>14.1f}{base[key]:>12.1f}{ratio:>8.2f}")
    print(f"{'messages':<28}{ours['count']:>14}{base['count']:>12}")
    print()
    print(f"{'resident memory (MB)':<28}")
    for name, mb in report["latency"]["rss_mb"].items():
        print(f"  {name:<26}{mb:>14.1f}")
    training = report.get("training_seconds")
    if training:
        print()
        ours_s, base_s = training["welcome_desk"], training["baseline"]
        ours_text = f"{ours_s:.1f}" if ours_s is not None else "not timed"
        print(f"{'training time (s)':<28}{ours_text:>14}{base_s:>12.1f}")
    print(f"\nwritten to {REPORT.relative_to(REPO)}")


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--messages", type=int, default=150, help="messages per system")
    parser.add_argument(
        "--model",
        type=Path,
        help="use this trained model instead of training one (its training is then not timed)",
    )
    args = parser.parse_args()
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO),
        "RASA_TELEMETRY_ENABLED": "false",
        "PYTHONWARNINGS": "ignore",
    }
    with tempfile.TemporaryDirectory(prefix="welcome-desk-bench-") as tmp:
        work = Path(tmp)
        model = args.model
        ours_seconds = None
        if model is None:
            print("==> training Welcome Desk's model from scratch (timed)")
            ours_seconds = timed_run(
                [
                    str(RASA),
                    "train",
                    "--force",
                    "--quiet",
                    "--fixed-model-name",
                    "bench",
                    "--out",
                    str(work / "models"),
                ],
                REPO,
                env,
            )
            model = work / "models" / "bench.tar.gz"
        print("==> creating and training the bare `rasa init` baseline (timed)")
        baseline_dir = work / "baseline"
        baseline_dir.mkdir()
        baseline_seconds = timed_run(
            [str(RASA), "init", "--no-prompt", "--quiet", "--init-dir", str(baseline_dir)],
            work,
            env,
        )
        print(f"==> measuring {args.messages} replies from each over the REST channel")
        latency = asyncio.run(measure(work, model.resolve(), baseline_dir, args.messages))
    report = {
        "machine": {
            "cpus": os.cpu_count(),
            "python": sys.version.split()[0],
            "platform": platform.platform(),
        },
        "latency": latency,
        "training_seconds": {
            "welcome_desk": round(ours_seconds, 1) if ours_seconds is not None else None,
            "baseline": round(baseline_seconds, 1),
        },
    }
    REPORT.parent.mkdir(exist_ok=True)
    REPORT.write_text(json.dumps(report, indent=2))
    print_table(report)
    shutil.rmtree(REPO / ".rasa", ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
