"""Many chat completions at once, under a concurrency limit that learns the server's cap.

A thread pool sends the requests (the SDK is synchronous); the calling thread schedules
them and receives every result, so ``on_outcome`` runs on the caller's thread and may
write to the database. A failed request waits for its retry in the scheduler's heap (a
"not before" time), not in a worker, so backoff never holds a slot.

How many requests may be in flight (the limit) starts at ``concurrency`` and follows what
the server says:

- 1302 (concurrency too high) means the server refused a request while at most ``peak``
  of ours were in flight: it takes at most ``peak - 1``. That becomes the learned cap and
  the limit stays under it. Once in a long while (``PROBE_ROUNDS`` times the cap in
  successes, doubled after each refused probe) the limiter probes one more; if the server
  takes it (a request sent as the extra one succeeds, and no refusal follows for a round),
  that is the new cap.
- Other throttles (1303 frequency, 1305 overload, 1312 busy model) halve the limit, once
  per burst; it then grows back by one per ``limit`` successes, up to the learned cap.

This module knows nothing about novels: items are ``(key, request body)`` pairs.
"""

from __future__ import annotations

import heapq
import itertools
import random
import time
from collections.abc import Callable, Hashable, Iterable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field

from graph.llm.codes import BUSY_MODEL_CODE, THROTTLE_CODES
from graph.llm.zhipu import ChatReply, ZhipuClient, ZhipuError

CAP_CODE = "1302"  # too many requests in flight: the refusal tells us the server's cap
THROTTLES = THROTTLE_CODES | {BUSY_MODEL_CODE}  # codes that lower the limit
PROBE_ROUNDS = 8  # successes between probes above the learned cap, in multiples of the cap...
MAX_PROBE_ROUNDS = 64  # ...doubled after each refused probe, up to this


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
    throttled: int = 0  # 429 answers (other than account faults)
    server_errors: int = 0  # 5xx answers
    timeouts: int = 0  # timeouts and connection errors (no HTTP status)
    elapsed: float = 0.0
    min_limit: int = 0
    final_limit: int = 0
    learned_cap: int = 0  # requests in flight the server was last found to take
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
    level: int = 0  # requests in flight when this attempt was sent, itself included
    peak: int = 0  # the most requests in flight while this attempt was, itself included


class _Limiter:
    """The number of requests allowed in flight, kept under the server's learned cap."""

    def __init__(self, ceiling: int, floor: int, stats: RunStats, clock: Callable[[], float]):
        self.limit = self.cap = self.ceiling = ceiling
        self.floor = max(1, min(floor, ceiling))
        self.epoch = 0  # bumped at each halving
        self.streak = 0  # successes since the last change
        self.probing = self.probe_held = False
        self.probe_rounds = PROBE_ROUNDS
        self.stats, self.clock, self.start = stats, clock, clock()
        stats.min_limit = stats.final_limit = stats.learned_cap = ceiling
        self._record()

    def _record(self) -> None:
        self.stats.limits.append((round(self.clock() - self.start, 3), self.limit))
        self.stats.min_limit = min(self.stats.min_limit, self.limit)
        self.stats.final_limit = self.limit

    def _set(self, limit: int) -> None:
        self.streak = 0
        if limit != self.limit:
            self.limit = limit
            self._record()

    def _learn(self, cap: int) -> None:
        self.cap = self.stats.learned_cap = cap
        self.streak = 0

    def success(self, task: _Task) -> None:
        self.streak += 1
        if self.probing:
            self.probe_held |= task.level > self.cap  # sent as one more than the cap
            if self.probe_held and self.streak >= self.limit:
                self.probing, self.probe_rounds = False, PROBE_ROUNDS
                self._learn(self.limit)
        elif self.limit < self.cap:
            if self.streak >= self.limit:
                self._set(self.limit + 1)
        elif self.cap < self.ceiling and self.streak >= self.probe_rounds * self.cap:
            self.probing, self.probe_held = True, False
            self._set(self.cap + 1)

    def throttled(self, task: _Task, code: str | None) -> None:
        self.streak = 0
        if code == CAP_CODE:
            self._refused(task.peak)
        elif task.epoch == self.epoch:
            # Requests sent before the last halving saw the old limit: one burst of 429s
            # halves the limit once, not once per request.
            self.epoch += 1
            self.probing = False
            self._set(max(self.floor, self.limit // 2))

    def _refused(self, peak: int) -> None:
        """The server refused a request while at most ``peak`` were in flight: its cap is lower.

        Requests sent together may reach the server in any order, so the refused one need not be
        the last sent; but the server cannot have counted more of ours than were in flight.
        """
        if peak <= self.cap:  # the cap is lower than we thought
            self.probing = False
            self._learn(max(self.floor, peak - 1))
            self._set(min(self.limit, self.cap))
        elif self.probing:  # the probe failed: back to the cap, and probe less often
            self.probing = False
            self.probe_rounds = min(MAX_PROBE_ROUNDS, self.probe_rounds * 2)
            self._set(self.cap)
        # else: sent under an older, higher limit; already accounted for


@dataclass(frozen=True)
class _Retry:
    """When to try again: up to ``attempts`` tries, with full-jitter exponential backoff."""

    attempts: int
    base_delay: float
    max_delay: float

    def delay(self, tries: int) -> float:
        return random.uniform(0, min(self.max_delay, self.base_delay * 2 ** (tries - 1)))


def _send(client: ZhipuClient, body: dict) -> tuple[ChatReply | None, ZhipuError | None]:
    """Run in a worker: one request, its reply or its error (never an exception)."""
    try:
        return client.chat(body), None
    except ZhipuError as error:
        return None, error
    except Exception as exc:  # a body the client cannot send fails alone, not the run
        return None, ZhipuError(f"{type(exc).__name__}: {exc}", code="client_error", permanent=True)


class _Run:
    """One run's state: items not yet read, retries waiting, requests in flight.

    Every method runs on the caller's thread; only ``_send`` runs in the pool.
    """

    def __init__(
        self,
        client: ZhipuClient,
        items: Iterable[tuple[Hashable, dict]],
        on_outcome: Callable[[Outcome], None],
        limiter: _Limiter,
        retry: _Retry,
        clock: Callable[[], float],
    ) -> None:
        self.client, self.on_outcome, self.limiter, self.retry = client, on_outcome, limiter, retry
        self.stats, self.clock = limiter.stats, clock
        self.fresh, self.drained = iter(items), False
        self.waiting: list[tuple[float, int, _Task]] = []  # (not before, tiebreak, task): a heap
        self.order = itertools.count()
        self.in_flight: dict[Future, _Task] = {}
        self.stop: ZhipuError | None = None  # the account fault that stopped the run

    @property
    def finished(self) -> bool:
        idle = self.stop is not None or (self.drained and not self.waiting)
        return idle and not self.in_flight

    def fill(self, pool: ThreadPoolExecutor) -> None:
        """Send ready tasks (due retries first, then fresh items) up to the limit."""
        while self.stop is None and len(self.in_flight) < self.limiter.limit:
            task = self._next_task()
            if task is None:
                return
            task.attempts += 1
            task.epoch, task.level, task.peak = self.limiter.epoch, len(self.in_flight) + 1, 0
            self.stats.sent += 1
            self.in_flight[pool.submit(_send, self.client, task.body)] = task
            for sent in self.in_flight.values():
                sent.peak = max(sent.peak, len(self.in_flight))

    def _next_task(self) -> _Task | None:
        if self.waiting and self.waiting[0][0] <= self.clock():
            return heapq.heappop(self.waiting)[2]
        if not self.drained:
            item = next(self.fresh, None)
            if item is not None:
                return _Task(*item)
            self.drained = True
        return None

    def until_retry(self) -> float | None:
        """Seconds until the next retry falls due, or None if it could not be sent anyway."""
        if self.stop is not None or not self.waiting or len(self.in_flight) >= self.limiter.limit:
            return None
        return max(0.0, self.waiting[0][0] - self.clock())

    def collect(self, done: Iterable[Future]) -> None:
        """Settle finished requests: a reply, a retry later, a final failure, or a stop."""
        for future in done:
            task = self.in_flight.pop(future)
            reply, error = future.result()
            if error is None:
                self.limiter.success(task)
                self._finish(task, reply, None)
            else:
                self._failed(task, error)

    def _failed(self, task: _Task, error: ZhipuError) -> None:
        if error.fatal:
            self.stop = self.stop or error  # not this item's fault: it stays pending
            return
        self._count(error)
        if error.code in THROTTLES:
            self.limiter.throttled(task, error.code)
        if error.permanent or task.attempts >= self.retry.attempts:
            self._finish(task, None, error)
        elif self.stop is None:  # when stopping, a retryable failure stays pending
            self.stats.retried += 1
            due = self.clock() + self.retry.delay(task.attempts)
            heapq.heappush(self.waiting, (due, next(self.order), task))

    def _count(self, error: ZhipuError) -> None:
        if error.status == 429:
            self.stats.throttled += 1
        elif error.status is None:
            self.stats.timeouts += 1
        elif error.status >= 500:
            self.stats.server_errors += 1

    def _finish(self, task: _Task, reply: ChatReply | None, error: ZhipuError | None) -> None:
        if error is None:
            self.stats.succeeded += 1
        else:
            self.stats.failed += 1
        self.on_outcome(Outcome(task.key, reply, error, task.attempts))


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
    run = _Run(
        client, items, on_outcome, limiter, _Retry(max_attempts, base_delay, max_delay), clock
    )
    start = clock()
    pool = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="chat")
    try:
        while True:
            run.fill(pool)
            if run.finished:
                break
            if not run.in_flight:  # only retries are left, none due yet
                sleep(run.until_retry() or 0.0)
                continue
            done, _ = wait(run.in_flight, timeout=run.until_retry(), return_when=FIRST_COMPLETED)
            run.collect(done)
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
        stats.elapsed = clock() - start
    if run.stop is not None:
        raise RunStopped(run.stop, stats)
    return stats
