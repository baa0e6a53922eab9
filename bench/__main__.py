"""`make bench`: what users feel, under load, against a bare `rasa init` bot in the same run.

App environment. In one run it trains (or reuses) Welcome Desk's model and a bare
`rasa init` model, starts both (same Rasa environment, REST channel), warms both up, then
measures 1, 10 and 50 concurrent scripted conversations on each, the first and last turns
of one 40-turn conversation, and the reply to a 20,000-character message. It writes
reports/bench.json and reports/bench-concurrency.png and prints the comparison. Numbers are
compared within the run, never across machines; another busy process on the machine
disturbs them, so the load average at the start and the end is recorded too.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiohttp

from bench import load
from bench.conversations import LONG_MESSAGE, MEDIUM_MESSAGE, SCRIPTS
from bench.stats import format_table, level_summary, long_conversation_summary
from tests.support.stack import REPO, Stack, build_sample_directory, free_port

RASA = REPO / ".venv" / "rasa" / "bin" / "rasa"
RASA_PYTHON = REPO / ".venv" / "rasa" / "bin" / "python"
REPORT = REPO / "reports" / "bench.json"
CHART = REPO / "reports" / "bench-concurrency.png"


def timed_run(command: list[str], cwd: Path, env: dict[str, str]) -> float:
    """Run a command to completion (output to the terminal) and return its seconds."""
    start = time.perf_counter()
    subprocess.run(command, cwd=cwd, env=env, check=True)
    return time.perf_counter() - start


def memory_mb(pid: int) -> dict[str, float]:
    """Memory of a process and its children, in MB (Linux /proc): resident (`rss`, pages
    shared between them counted in each) and proportional (`pss`, a shared page split
    among those that share it: what several Rasa workers cost together)."""
    pids = [pid]
    children = Path(f"/proc/{pid}/task/{pid}/children")
    if children.exists():
        pids += [int(p) for p in children.read_text().split()]
    total_kb = {"rss": 0, "pss": 0}
    for p in pids:
        try:
            for line in Path(f"/proc/{p}/smaps_rollup").read_text().splitlines():
                name, _, value = line.partition(":")
                if name in ("Rss", "Pss"):
                    total_kb[name.lower()] += int(value.split()[0])
        except (FileNotFoundError, PermissionError):
            continue
    return {name: round(kb / 1024, 1) for name, kb in total_kb.items()}


def load_average() -> list[float]:
    """The 1, 5 and 15 minute load averages: how busy the machine was besides the bench."""
    return [round(x, 2) for x in os.getloadavg()]


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


async def measure_all(urls: dict[str, str], options: argparse.Namespace) -> dict:
    """Every measurement, alternating the systems so a busy spell hits both alike."""
    for system, url in urls.items():
        print(f"==> warming up {system}")
        await load.warm_up(url, SCRIPTS[system].warm_up)
    concurrency: dict[str, list[dict]] = {system: [] for system in urls}
    for level in options.levels:
        for system, url in urls.items():
            result = await load.run_level(url, SCRIPTS[system].mix, level, options.seconds)
            row = level_summary(level, result)
            concurrency[system].append(row)
            print(
                f"    {system:<13}{level:>3} conversations: {row['throughput_msg_s']:>6} msg/s, "
                f"p95 {row.get('p95_ms', '–')} ms, {row['errors']} errors of {row['messages']}"
            )
    long_runs: dict[str, list[list[float]]] = {system: [] for system in urls}
    for run in range(options.long_conversations):
        for system, url in urls.items():
            print(f"==> conversation {run + 1} of {options.turns} turns with {system}")
            block = SCRIPTS[system].long_block
            long_runs[system].append(await load.long_conversation(url, block, options.turns))
    long_conversation = {
        system: long_conversation_summary(runs) for system, runs in long_runs.items()
    }
    long_message: dict[str, dict] = {system: {} for system in urls}
    for system, url in urls.items():
        print(f"==> a 500- and a {len(LONG_MESSAGE):,}-character message to {system}")
        first_turn = SCRIPTS[system].long_block
        for text in (MEDIUM_MESSAGE, LONG_MESSAGE):
            timing = await load.one_message_timings(url, first_turn, text, options.repeats)
            long_message[system][f"chars_{len(text)}"] = timing
    return {
        "concurrency": concurrency,
        "long_conversation": long_conversation,
        "long_message": long_message,
    }


async def measure(work: Path, model: Path, baseline_dir: Path, options: argparse.Namespace) -> dict:
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
        results = await measure_all({"welcome_desk": stack.rasa, "baseline": baseline_url}, options)
        memory = {name: memory_mb(p.pid) for name, p in stack.processes.items()}
        memory["baseline_rasa"] = memory_mb(baseline.pid)
        dead = [name for name, alive in stack.alive().items() if not alive]
        if dead:
            raise RuntimeError(
                f"{dead} exited during the bench:\n" + "\n".join(map(stack.log, dead))
            )
    finally:
        stack.stop()
        baseline.terminate()
        baseline.wait(timeout=30)
    return {
        **results,
        "memory": {
            "rss_mb": {name: mb["rss"] for name, mb in memory.items()},
            "pss_mb": {name: mb["pss"] for name, mb in memory.items()},
        },
    }


def one_conversation_latency(concurrency: dict[str, list[dict]]) -> dict:
    """The `latency` key (one conversation at a time, as before): the level-1 numbers."""
    latency = {}
    for system, rows in concurrency.items():
        row = next((r for r in rows if r["concurrency"] == 1), None)
        if row and row.get("count"):
            latency[system] = {
                key: row[key] for key in ("count", "p50_ms", "p95_ms", "p99_ms", "max_ms")
            }
    return latency


def draw_chart(report_path: Path, chart_path: Path) -> None:
    """Draw the chart in the Rasa environment (bench/chart.py says why); warn if it fails."""
    done = subprocess.run(
        [str(RASA_PYTHON), str(REPO / "bench" / "chart.py"), str(report_path), str(chart_path)],
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        print(f"the chart was not drawn ({RASA_PYTHON} failed):\n{done.stderr[-2000:]}")


def print_report(report: dict) -> None:
    print()
    print(format_table(report))
    print()
    print(f"{'memory (MB)':<28}{'resident':>14}{'proportional':>14}")
    for name, mb in report["memory"]["rss_mb"].items():
        print(f"  {name:<26}{mb:>14.1f}{report['memory']['pss_mb'][name]:>14.1f}")
    training = report.get("training_seconds")
    ours_s, base_s = training["welcome_desk"], training["baseline"]
    print(f"\n{'training time (s)':<28}{_seconds(ours_s):>14}{_seconds(base_s):>12}")
    load_avg = report["machine"]["load_average"]
    print(f"load average (1, 5, 15 min): at start {load_avg['start']}, at end {load_avg['end']}")
    print(f"\nwritten to {REPORT.relative_to(REPO)} and {CHART.relative_to(REPO)}")


def _seconds(value: float | None) -> str:
    return f"{value:.1f}" if value is not None else "not timed"


def parse_options() -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument(
        "--model",
        type=Path,
        help="use this trained model instead of training one (its training is then not timed)",
    )
    parser.add_argument(
        "--baseline",
        type=Path,
        help="use this `rasa init` folder (with a trained model) instead of creating one",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="a short check that the tool works: 1 and 10 conversations, 4 s each, 10 turns",
    )
    parser.add_argument("--levels", type=int, nargs="+", default=[1, 10, 50])
    parser.add_argument(
        "--seconds",
        type=float,
        default=10.0,
        help="per level and system; the conversations under way then finish",
    )
    parser.add_argument("--turns", type=int, default=40, help="of the long conversation")
    parser.add_argument(
        "--long-conversations", type=int, default=5, help="each of --turns turns, per system"
    )
    parser.add_argument("--repeats", type=int, default=3, help="of the long message")
    options = parser.parse_args()
    if options.quick:
        options.levels, options.seconds, options.turns, options.repeats = [1, 10], 4.0, 10, 1
        options.long_conversations = 1
    return options


def main() -> int:
    options = parse_options()
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO),
        "RASA_TELEMETRY_ENABLED": "false",
        "PYTHONWARNINGS": "ignore",
    }
    load_at_start = load_average()
    with tempfile.TemporaryDirectory(prefix="welcome-desk-bench-") as tmp:
        work = Path(tmp)
        model = options.model
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
        baseline_dir = options.baseline
        baseline_seconds = None
        if baseline_dir is None:
            print("==> creating and training the bare `rasa init` baseline (timed)")
            baseline_dir = work / "baseline"
            baseline_dir.mkdir()
            baseline_seconds = timed_run(
                [str(RASA), "init", "--no-prompt", "--quiet", "--init-dir", str(baseline_dir)],
                work,
                env,
            )
        print(
            f"==> measuring {', '.join(map(str, options.levels))} concurrent conversations, "
            f"{options.seconds:g} s each, on each system over the REST channel"
        )
        results = asyncio.run(measure(work, model.resolve(), baseline_dir.resolve(), options))
    report = {
        "machine": {
            "cpus": os.cpu_count(),
            "python": sys.version.split()[0],
            "platform": platform.platform(),
            "load_average": {"start": load_at_start, "end": load_average()},
        },
        "options": {
            "levels": options.levels,
            "seconds_per_level": options.seconds,
            "long_conversation_turns": options.turns,
            "long_conversations": options.long_conversations,
            "long_message_repeats": options.repeats,
            "quick": options.quick,
        },
        "latency": one_conversation_latency(results["concurrency"]),
        **results,
        "training_seconds": {
            "welcome_desk": round(ours_seconds, 1) if ours_seconds is not None else None,
            "baseline": round(baseline_seconds, 1) if baseline_seconds is not None else None,
        },
    }
    REPORT.parent.mkdir(exist_ok=True)
    REPORT.write_text(json.dumps(report, indent=2, ensure_ascii=False))
    draw_chart(REPORT, CHART)
    print_report(report)
    shutil.rmtree(REPO / ".rasa", ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
