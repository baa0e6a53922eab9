"""`make profile`: where a turn's time goes, under the bench's load of 50 conversations.

App environment. Starts Welcome Desk as `make bench` does (supervisord.conf's three processes,
the sample directory; one Rasa worker, RASA_WORKERS=1, so that py-spy sees all its work),
warms it up, then sends the bench's conversation mix with `--conversations` at once for
`--seconds` while `py-spy record` samples each process. For
each process it prints the functions that hold the most samples: *own* (the CPU is in that
function itself) and *total* (the function is on the stack: it or what it calls), as shares
of that process's samples, idle waiting left out. The raw profiles (collapsed stacks) go to
reports/profile-<process>.txt, for speedscope.app or flamegraph.pl. py-spy reads the
processes' memory, so it needs root or ptrace rights (`--nonblocking`: it never pauses them).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import subprocess
import tempfile
from collections import Counter
from pathlib import Path

from bench import load
from bench.conversations import SCRIPTS
from bench.stats import level_summary
from tests.support.stack import REPO, Stack, build_sample_directory

PY_SPY = REPO / ".venv" / "app" / "bin" / "py-spy"
REPORTS = REPO / "reports"
# A frame as py-spy writes it: "function (path/to/file.py:123)".
FRAME = re.compile(r"^(?P<function>.*?) \((?P<file>[^:()]+)(?::\d+)?\)$")
# Frames where a thread waits rather than works (the event loop's select, a lock).
IDLE = ("select (selectors.py", "_run_once (asyncio", "wait (threading.py", "poll (selectors")


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) a process and all its descendants have used so far."""
    ticks = os.sysconf("SC_CLK_TCK")
    total, pids = 0.0, [pid]
    while pids:
        current = pids.pop()
        try:
            fields = Path(f"/proc/{current}/stat").read_text().rpartition(")")[2].split()
            total += (int(fields[11]) + int(fields[12])) / ticks  # utime, stime
            for task in Path(f"/proc/{current}/task").iterdir():
                pids += [int(c) for c in (task / "children").read_text().split()]
        except (FileNotFoundError, ProcessLookupError):
            continue
    return total


def frame_name(frame: str) -> str:
    """ "fetch (rasa/core/tracker_store.py:123)" -> "rasa/core/tracker_store.py:fetch"."""
    match = FRAME.match(frame.strip())
    if not match:
        return frame.strip()
    path = match["file"]
    for marker in ("site-packages/", "python3.10/", "python3.11/", str(REPO) + "/"):
        if marker in path:
            path = path.split(marker, 1)[1]
    return f"{path}:{match['function']}"


def summarize(collapsed: str, top: int) -> tuple[int, list[tuple[str, float]], list]:
    """From py-spy's collapsed stacks: the busy samples, and the `top` functions by own and
    by total share of them."""
    own: Counter[str] = Counter()
    total: Counter[str] = Counter()
    busy = 0
    for line in collapsed.splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        frames = stack.split(";")
        if any(marker in frames[-1] for marker in IDLE):
            continue
        count = int(count_text)
        busy += count
        names = [frame_name(f) for f in frames[1:]]  # the first is the thread
        if names:
            own[names[-1]] += count
        for name in set(names):
            total[name] += count

    def shares(counter: Counter[str]) -> list[tuple[str, float]]:
        return [(name, 100 * n / busy) for name, n in counter.most_common(top)] if busy else []

    return busy, shares(own), shares(total)


async def profile(options: argparse.Namespace) -> None:
    work = Path(tempfile.mkdtemp(prefix="welcome-desk-profile-"))
    # One Rasa process: py-spy samples the process it is given, not its workers.
    stack = Stack(work / "stack", model=options.model, RASA_WORKERS="1")
    stack.workdir.mkdir(parents=True)
    await build_sample_directory(stack.directory_db)
    stack.start()
    spies: dict[str, subprocess.Popen] = {}
    try:
        await stack.wait_until_ready()
        print("==> warming up")
        await load.warm_up(stack.rasa, SCRIPTS["welcome_desk"].warm_up)
        REPORTS.mkdir(exist_ok=True)
        for name, process in stack.processes.items():
            # The process is a shell running the server: --subprocesses follows it down.
            spies[name] = subprocess.Popen(  # noqa: ASYNC220 (starting takes milliseconds)
                [
                    str(PY_SPY),
                    "record",
                    "--pid",
                    str(process.pid),
                    "--subprocesses",
                    "--nonblocking",
                    "--rate",
                    str(options.rate),
                    "--duration",
                    str(int(options.seconds) + 2),
                    *(["--native"] if options.native else []),
                    "--format",
                    "raw",
                    "--output",
                    str(REPORTS / f"profile-{name}.txt"),
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
            )
        await asyncio.sleep(1)  # py-spy attaches
        print(f"==> {options.conversations} conversations for {options.seconds:.0f} s, sampled")
        before = {name: cpu_seconds(p.pid) for name, p in stack.processes.items()}
        result = await load.run_level(
            stack.rasa, SCRIPTS["welcome_desk"].mix, options.conversations, options.seconds
        )
        used = {name: cpu_seconds(p.pid) - before[name] for name, p in stack.processes.items()}
        row = level_summary(options.conversations, result)
        print(
            f"    {row['throughput_msg_s']} msg/s, p50 {row.get('p50_ms')} ms, "
            f"p95 {row.get('p95_ms')} ms, {row['errors']} errors of {row['messages']}"
        )
        answered = max(row["messages"] - row["errors"], 1)
        print(f"    CPU used by each process in those {result.seconds:.1f} s:")
        for name, seconds in used.items():
            print(
                f"      {name:<8}{seconds:6.1f} s ({100 * seconds / result.seconds:3.0f} % of "
                f"a core), {1000 * seconds / answered:5.1f} ms per message"
            )
    finally:
        for spy in spies.values():
            spy.wait(timeout=120)
        stack.stop()
        shutil.rmtree(work, ignore_errors=True)
    for name, spy in spies.items():
        path = REPORTS / f"profile-{name}.txt"
        if spy.returncode != 0 or not path.exists():
            print(f"\n{name}: py-spy failed: {spy.stderr.read().decode()[-500:]}")
            continue
        busy, own, total = summarize(path.read_text(), options.top)
        print(f"\n{name}: {busy} busy samples ({path.relative_to(REPO)})")
        print("  own time                                                         share")
        for function, share in own:
            print(f"    {function[:64]:<64} {share:5.1f} %")
        print("  total time (with what it calls)")
        for function, share in total:
            print(f"    {function[:64]:<64} {share:5.1f} %")


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.profile", description=__doc__)
    parser.add_argument("--model", type=Path, default=REPO / "models" / "welcome-desk.tar.gz")
    parser.add_argument("--conversations", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--rate", type=int, default=100, help="samples per second")
    parser.add_argument("--top", type=int, default=15, help="functions listed per process")
    parser.add_argument(
        "--native", action="store_true", help="sample C frames too (slower; shows what C code)"
    )
    asyncio.run(profile(parser.parse_args()))


if __name__ == "__main__":
    main()
