"""Draw reports/bench-concurrency.png from reports/bench.json: p95 and throughput per level.

Rasa environment (Python 3.10): matplotlib is there already (`make eval` draws with it too),
so the app environment, shared by every checkout, needs no new package. Standard library
and matplotlib only; `python -m bench` runs it as
`.venv/rasa/bin/python bench/chart.py reports/bench.json reports/bench-concurrency.png`.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

SYSTEMS = {"welcome_desk": "Welcome Desk", "baseline": "bare Rasa (rasa init)"}


def draw(report: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, (latency, throughput) = plt.subplots(1, 2, figsize=(12, 5))
    for system, label in SYSTEMS.items():
        rows = sorted(report["concurrency"][system], key=lambda row: row["concurrency"])
        levels = [row["concurrency"] for row in rows]
        latency.plot(levels, [row.get("p95_ms") for row in rows], marker="o", label=label)
        throughput.plot(levels, [row["throughput_msg_s"] for row in rows], marker="o", label=label)
    latency.axhline(1000, color="grey", linestyle="--", linewidth=1, label="1 s (issue 11's aim)")
    # Log scale: the two systems can be two orders of magnitude apart.
    latency.set_yscale("log")
    latency.set_title("Reply latency p95 (REST)")
    latency.set_ylabel("ms (log scale)")
    throughput.set_title("Throughput")
    throughput.set_ylabel("answered messages / s")
    throughput.set_ylim(bottom=0)
    for axes in (latency, throughput):
        axes.set_xscale("log")
        axes.set_xticks(levels, [str(level) for level in levels])
        axes.set_xlabel("concurrent conversations")
        axes.grid(alpha=0.3, which="both")
        axes.legend()
    load = report["machine"].get("load_average", {})
    quick = " --quick" if report.get("options", {}).get("quick") else ""
    figure.suptitle(
        f"make bench{quick}, {report['machine']['cpus']} CPUs; load average at start "
        f"{load.get('start', '?')}, at end {load.get('end', '?')}"
    )
    figure.tight_layout()
    figure.savefig(path, dpi=110)


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: .venv/rasa/bin/python bench/chart.py reports/bench.json OUT.png")
    draw(json.loads(Path(sys.argv[1]).read_text()), Path(sys.argv[2]))
