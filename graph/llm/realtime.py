"""Many chat completions at once, under a concurrency limit that adapts, with backoff.

A fixed pool of worker threads sends requests (the SDK is synchronous); the calling
thread schedules them and receives every result, so ``on_outcome`` runs on the caller's
thread and may write to the database. The number of requests in flight follows AIMD:
it starts at ``concurrency``, halves on a rate-limit 429 and grows by one after a run
of successes. A failed request waits for its retry in the scheduler's queue (a "not
before" time), not in a worker, so backoff never holds a slot.

This module knows nothing about novels: items are ``(key, request body)`` pairs.
"""

from __future__ import annotations

import heapq
import itertools
import queue
import random
import threading
import time
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass, field

from graph.llm.zhipu import ChatReply, ZhipuClient, ZhipuError

THROTTLE_CODES = frozenset({"1302", "1303", "1305"})  # rate limit / frequency / overload


@dataclass(frozen=True)
class Outcome:
    """The end of one item: a reply, or the last error after ``attempts`` tries."""

    key: Hashable
    reply: ChatReply | None
    error: ZhipuError | None
    attempts: int


@dataclass
class RunStats:
    """What a run did; ``limits`` holds (seconds since start, new limit) at each change."""

    sent: int = 0  # requests sent, retries included
    succeeded: int = 0
    failed: int = 0  # items that ended with an error
    retried: int = 0  # requests put back for another attempt
    throttled: int = 0  # 429 answers (other than out of balance)
    server_errors: int = 0  # 5xx answers
    timeouts: int = 0  # timeouts and connection errors (no HTTP status)
    elapsed: float = 0.0
    min_limit: int = 0
    final_limit: int = 0
    limits: list[tuple[float, int]] = field(default_factory=list)


class RunStopped(Exception):
    """An account-wide fault (bad key, empty balance, quota, ...): the run stopped sending."""

    def __init__(self, error: ZhipuError, stats: RunStats) -> None:
        self.error, self.stats = error, stats
        super().__init__(
            f"{error.user_line}。已停止：本次完成 {stats.succeeded + stats.failed} 个任务，"
            "其余任务保持待处理，重新运行即可继续"
        )


@dataclass
class _Task:
    key: Hashable
    body: dict
    attempts: int = 0
    epoch: int = 0  # the limiter's epoch when this attempt was sent


class _Limiter:
    """Additive increase, multiplicative decrease of the number of requests in flight."""

    def __init__(self, ceiling: int, floor: int, stats: RunStats, clock: Callable[[], float]):
        self.limit = self.ceiling = ceiling
        self.floor = max(1, min(floor, ceiling))
        self.epoch = 0  # bumped at each decrease
        self.streak = 0
        self.stats, self.clock, self.start = stats, clock, clock()
        stats.min_limit = stats.final_limit = ceiling
        self._record()

    def _record(self) -> None:
        self.stats.limits.append((round(self.clock() - self.start, 3), self.limit))
        self.stats.min_limit = min(self.stats.min_limit, self.limit)
        self.stats.final_limit = self.limit

    def success(self) -> None:
        self.streak += 1
        if self.streak >= self.limit and self.limit < self.ceiling:
            self.limit, self.streak = self.limit + 1, 0
            self._record()

    def throttled(self, epoch: int) -> None:
        # Requests sent before the last decrease saw the old limit: one burst of 429s
        # halves the limit once, not once per request.
        self.streak = 0
        if epoch == self.epoch:
            self.epoch += 1
            if self.limit > self.floor:
                self.limit = max(self.floor, self.limit // 2)
                self._record()


def _work(client: ZhipuClient, jobs: queue.SimpleQueue, results: queue.SimpleQueue) -> None:
    """A worker: send each job, hand back (task, reply, error); stop on None."""
    while (task := jobs.get()) is not None:
        try:
            results.put((task, client.chat(task.body), None))
        except ZhipuError as error:
            results.put((task, None, error))
        except Exception as exc:  # a body the client cannot send fails alone, not the run
            error = ZhipuError(f"{type(exc).__name__}: {exc}", code="client_error", permanent=True)
            results.put((task, None, error))


def run_chat(
    client: ZhipuClient,
    items: Iterable[tuple[Hashable, dict]],
    *,
    concurrency: int,
    on_outcome: Callable[[Outcome], None],
    max_attempts: int = 3,
    base_delay: float = 1.0,
    max_delay: float = 30.0,
    sleep: Callable[[float], None] = time.sleep,
    min_concurrency: int = 1,
    clock: Callable[[], float] = time.monotonic,
) -> RunStats:
    """Send every item's chat request and call ``on_outcome`` once per finished item.

    Retries 429s, 5xx, timeouts and connection errors with full-jitter backoff
    (``uniform(0, min(max_delay, base_delay * 2**n))`` before retry n+1, n from 0), up to
    ``max_attempts`` tries; permanent errors get one try. ``on_outcome`` runs on the
    calling thread. ``items`` is read lazily. ``sleep`` waits when nothing is in flight
    and the next retry is not yet due.

    Raises RunStopped on an account-wide fault (ZhipuError.fatal): nothing more is sent,
    requests in flight finish (and get their outcome if they finished), and items not
    yet finished get no outcome.
    """
    if concurrency < 1 or max_attempts < 1:
        raise ValueError("concurrency and max_attempts must be at least 1")
    stats = RunStats()
    limiter = _Limiter(concurrency, min_concurrency, stats, clock)
    jobs: queue.SimpleQueue = queue.SimpleQueue()
    results: queue.SimpleQueue = queue.SimpleQueue()
    workers = [
        threading.Thread(target=_work, args=(client, jobs, results), daemon=True, name=f"chat-{i}")
        for i in range(concurrency)
    ]
    for worker in workers:
        worker.start()
    fresh = iter(items)
    waiting: list[tuple[float, int, _Task]] = []  # (not before, tiebreak, task): a heap
    order = itertools.count()
    in_flight, drained, stop = 0, False, None

    def next_task(now: float) -> _Task | None:
        nonlocal drained
        if waiting and waiting[0][0] <= now:
            return heapq.heappop(waiting)[2]
        if not drained:
            item = next(fresh, None)
            if item is not None:
                return _Task(*item)
            drained = True
        return None

    def finish(task: _Task, reply: ChatReply | None, error: ZhipuError | None) -> None:
        if error is None:
            stats.succeeded += 1
        else:
            stats.failed += 1
        on_outcome(Outcome(task.key, reply, error, task.attempts))

    def settle(task: _Task, reply: ChatReply | None, error: ZhipuError | None) -> None:
        nonlocal stop
        if error is None:
            limiter.success()
            return finish(task, reply, None)
        if error.fatal:
            stop = stop or error
            return None  # not this item's fault: it stays pending
        if error.status == 429:
            stats.throttled += 1
            if error.code in THROTTLE_CODES:
                limiter.throttled(task.epoch)
        elif error.status is None:
            stats.timeouts += 1
        elif error.status >= 500:
            stats.server_errors += 1
        if error.permanent or task.attempts >= max_attempts:
            return finish(task, None, error)
        if stop is None:  # when stopping, a retryable failure stays pending
            stats.retried += 1
            cap = min(max_delay, base_delay * 2 ** (task.attempts - 1))
            heapq.heappush(waiting, (clock() + random.uniform(0, cap), next(order), task))
        return None

    start = clock()
    try:
        while True:
            while stop is None and in_flight < limiter.limit:
                task = next_task(clock())
                if task is None:
                    break
                task.attempts, task.epoch = task.attempts + 1, limiter.epoch
                stats.sent += 1
                in_flight += 1
                jobs.put(task)
            if in_flight == 0:
                if stop is not None or (drained and not waiting):
                    break
                sleep(max(0.0, waiting[0][0] - clock()))
                continue
            timeout = None  # a result is all we can wait for...
            if stop is None and waiting and in_flight < limiter.limit:
                timeout = max(0.0, waiting[0][0] - clock())  # ...unless a retry falls due
            try:
                result = results.get(timeout=timeout)
            except queue.Empty:
                continue
            in_flight -= 1
            settle(*result)
    finally:
        for _ in workers:
            jobs.put(None)
        stats.elapsed = clock() - start
    if stop is not None:
        raise RunStopped(stop, stats)
    return stats
