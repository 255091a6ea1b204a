"""Throughput of graph.llm.realtime against the local emulator under server concurrency caps.

    .venv/bin/python bench/realtime.py [--caps 3 5 8] [--concurrency 5] [--tasks 1000] [--latency 0.2]

For each cap, the emulator answers 429 (code 1302) beyond ``cap`` requests in flight and takes
``latency`` seconds per answer; we send ``tasks`` requests with ``concurrency`` workers. The best
possible wall time ("ideal") is tasks × latency / min(cap, concurrency). One line per cap; the
targets are ≤ 3 % 429s, ≥ 0.9 of ideal throughput and no failed task (exit status 1 otherwise).
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from graph.llm.realtime import Outcome, RunStats, run_chat  # noqa: E402
from graph.llm.zhipu import ZhipuClient  # noqa: E402
from tests.emulator import ZhipuEmulator  # noqa: E402

MAX_429_SHARE = 0.03
MIN_FRACTION = 0.9


@dataclass(frozen=True)
class Result:
    cap: int
    ideal: float  # seconds
    stats: RunStats
    requests: int  # as the emulator counted them
    refused: int  # 429 answers
    failed: int

    @property
    def share(self) -> float:
        return self.refused / self.requests if self.requests else 0.0

    @property
    def fraction(self) -> float:
        return self.ideal / self.stats.elapsed

    @property
    def ok(self) -> bool:
        return self.share <= MAX_429_SHARE and self.fraction >= MIN_FRACTION and not self.failed

    def line(self) -> str:
        stats = self.stats
        return (
            f"cap {self.cap}: 429s {self.share:6.1%} ({self.refused:3d} of {self.requests}), "
            f"throughput {self.fraction:.3f} of ideal ({stats.elapsed:.1f} s vs {self.ideal:.1f} s), "
            f"failed {self.failed}; limit min {stats.min_limit} final {stats.final_limit}, "
            f"learned cap {stats.learned_cap}, {len(stats.limits) - 1} changes"
            f"{'' if self.ok else '  <- MISSED'}"
        )


def bench(cap: int, args: argparse.Namespace) -> Result:
    """One run of ``args.tasks`` requests against an emulator capped at ``cap``."""
    failed: list[Outcome] = []
    work = (
        (i, {"model": "glm-4-flash", "messages": [{"role": "user", "content": f"问题{i}"}]})
        for i in range(args.tasks)
    )
    with ZhipuEmulator(model=lambda body: json.dumps({"type": "cooccur"})) as emu:
        emu.faults.max_concurrency = cap
        emu.faults.chat_latency = args.latency
        client = ZhipuClient("bench.secret", emu.base_url, timeout=30.0)
        stats = run_chat(
            client,
            work,
            concurrency=args.concurrency,
            on_outcome=lambda o: failed.append(o) if o.error else None,
            max_attempts=args.max_attempts,
            base_delay=args.base_delay,
        )
        seen = emu.stats
    ideal = args.tasks * args.latency / min(cap, args.concurrency)
    return Result(cap, ideal, stats, seen.chat_requests, seen.chat_429s, len(failed))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--caps", type=int, nargs="+", default=[3, 5, 8], help="server caps")
    parser.add_argument("--concurrency", type=int, default=5, help="our configured concurrency")
    parser.add_argument("--tasks", type=int, default=1000)
    parser.add_argument("--latency", type=float, default=0.2, help="seconds per answer")
    parser.add_argument("--max-attempts", type=int, default=3)
    parser.add_argument("--base-delay", type=float, default=0.5)
    args = parser.parse_args()

    print(
        f"tasks {args.tasks}, concurrency {args.concurrency}, latency {args.latency}s; "
        f"targets: 429s ≤ {MAX_429_SHARE:.0%}, throughput ≥ {MIN_FRACTION} of ideal, 0 failed"
    )
    results = []
    for cap in args.caps:
        results.append(bench(cap, args))
        print(results[-1].line(), flush=True)
    return 0 if all(r.ok for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
