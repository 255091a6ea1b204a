"""Throughput of graph.llm.realtime against the local emulator under a concurrency cap.

    .venv/bin/python bench/realtime.py [--tasks 1000] [--cap 5] [--latency 0.2] [--concurrency N]

The emulator answers 429 (code 1302) beyond ``cap`` requests in flight and takes
``latency`` seconds per answer, so the best possible throughput is cap / latency.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from graph.llm.realtime import Outcome, run_chat  # noqa: E402
from graph.llm.zhipu import ZhipuClient  # noqa: E402
from tests.emulator import ZhipuEmulator  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=1000)
    parser.add_argument("--cap", type=int, default=5, help="the emulator's concurrency limit")
    parser.add_argument("--latency", type=float, default=0.2, help="seconds per answer")
    parser.add_argument("--concurrency", type=int, help="our pool size (default: --cap)")
    parser.add_argument("--max-attempts", type=int, default=3)
    parser.add_argument("--base-delay", type=float, default=0.5)
    args = parser.parse_args()
    concurrency = args.concurrency or args.cap

    failed: list[Outcome] = []
    work = [
        (i, {"model": "glm-4-flash", "messages": [{"role": "user", "content": f"问题{i}"}]})
        for i in range(args.tasks)
    ]
    with ZhipuEmulator(model=lambda body: json.dumps({"type": "cooccur"})) as emu:
        emu.faults.max_concurrency = args.cap
        emu.faults.chat_latency = args.latency
        client = ZhipuClient("bench.secret", emu.base_url, timeout=30.0)
        stats = run_chat(
            client,
            work,
            concurrency=concurrency,
            on_outcome=lambda o: failed.append(o) if o.error else None,
            max_attempts=args.max_attempts,
            base_delay=args.base_delay,
        )
        seen = emu.stats

    throughput = args.tasks / stats.elapsed
    ideal = args.cap / args.latency
    print(f"tasks {args.tasks}, cap {args.cap}, latency {args.latency}s, concurrency {concurrency}")
    print(f"wall time        {stats.elapsed:.2f} s")
    print(f"throughput       {throughput:.1f} req/s (ideal {ideal:.1f} = cap / latency)")
    print(f"fraction         {throughput / ideal:.3f} of ideal")
    print(
        f"429 share        {seen.chat_429s / seen.chat_requests:.3f}"
        f" ({seen.chat_429s} of {seen.chat_requests} requests)"
    )
    print(f"failed tasks     {len(failed)}")
    print(
        f"limit            min {stats.min_limit}, final {stats.final_limit}, "
        f"{len(stats.limits) - 1} changes; retried {stats.retried}"
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
