"""Realtime chat runs: concurrency, adaptive limit, backoff, permanent errors, account faults.

The real SDK (through ZhipuClient) talks to the local emulator; backoff delays are tiny. The
limiter alone is also driven by a small simulated server, step by step, with no threads.
"""

from __future__ import annotations

import itertools
import json
import threading
from collections import deque
from collections.abc import Iterable, Iterator

import pytest

from graph.llm.realtime import Outcome, RunStats, RunStopped, _Limiter, _Task, run_chat
from graph.llm.zhipu import ZhipuClient
from tests.conftest import TEST_API_KEY
from tests.emulator import GARBAGE_REPLY, ZhipuEmulator

API_KEY = TEST_API_KEY


@pytest.fixture
def emulator() -> Iterator[ZhipuEmulator]:
    """A running emulator whose model echoes the question."""
    with ZhipuEmulator(
        model=lambda body: json.dumps({"echo": body["messages"][0]["content"]}, ensure_ascii=False)
    ) as emu:
        yield emu


@pytest.fixture
def client(emulator: ZhipuEmulator) -> ZhipuClient:
    return ZhipuClient(API_KEY, emulator.base_url, timeout=5.0)


def items(count: int, text: str = "问题") -> list[tuple[str, dict]]:
    """``count`` chat requests keyed by their question: 问题0, 问题1…"""
    return [
        (
            f"{text}{i}",
            {"model": "glm-4-flash", "messages": [{"role": "user", "content": f"{text}{i}"}]},
        )
        for i in range(count)
    ]


def run(client: ZhipuClient, work: list, **options) -> tuple[dict[str, Outcome], RunStats]:
    """Run and collect outcomes by key, checking each key comes once, on this thread."""
    outcomes: dict[str, Outcome] = {}

    def collect(outcome: Outcome) -> None:
        assert outcome.key not in outcomes, f"{outcome.key} reported twice"
        assert threading.current_thread() is threading.main_thread()
        outcomes[outcome.key] = outcome

    options = {"concurrency": 4, "base_delay": 0.01, "max_delay": 0.05, **options}
    stats = run_chat(client, work, on_outcome=collect, **options)
    return outcomes, stats


def test_it_answers_every_item_without_exceeding_the_concurrency(client, emulator):
    emulator.faults.chat_latency = 0.03

    outcomes, stats = run(client, items(40), concurrency=4)

    assert sorted(outcomes) == sorted(key for key, _ in items(40))
    assert all(o.error is None and o.attempts == 1 for o in outcomes.values())
    assert json.loads(outcomes["问题7"].reply.content) == {"echo": "问题7"}
    assert emulator.stats.max_in_flight == 4
    assert (stats.sent, stats.succeeded, stats.failed, stats.retried) == (40, 40, 0, 0)
    assert stats.min_limit == stats.final_limit == 4


def test_it_retries_a_429_storm_and_the_limit_drops_then_recovers(client, emulator):
    emulator.faults.chat_latency = 0.01
    emulator.faults.chat_429_every = 4
    emulator.faults.chat_429_codes = ["1302", "1305"]
    answered = 0

    def model(body: dict) -> str:
        nonlocal answered
        answered += 1
        if answered == 20:  # the storm ends; the rest of the run lets the limit recover
            emulator.faults.chat_429_every = 0
        return "{}"

    emulator.model = model
    # A 1302 storm looks like a low server cap; the limiter probes its way back up, which
    # takes a few dozen successes per step.
    outcomes, stats = run(client, items(200), concurrency=4, max_attempts=10)

    assert len(outcomes) == 200
    assert all(o.error is None for o in outcomes.values())
    assert emulator.stats.code_counts["1302"] > 0 and emulator.stats.code_counts["1305"] > 0
    assert stats.throttled == emulator.stats.chat_429s == stats.retried
    assert stats.sent == 200 + stats.retried == emulator.stats.chat_requests
    assert stats.min_limit < 4
    assert stats.final_limit == 4
    lowest = min(range(len(stats.limits)), key=lambda i: stats.limits[i][1])
    assert stats.limits[lowest + 1 :], "the limit never rose again after its lowest point"


def test_it_adapts_to_a_server_concurrency_cap_below_its_own(client, emulator):
    emulator.faults.chat_latency = 0.02
    emulator.faults.max_concurrency = 3

    outcomes, stats = run(client, items(60), concurrency=8, max_attempts=10)

    assert all(o.error is None for o in outcomes.values()) and len(outcomes) == 60
    assert stats.throttled == emulator.stats.code_counts["1302"] > 0
    assert stats.min_limit <= 3


def test_it_learns_a_server_cap_below_its_own_and_stays_under_it(client, emulator):
    emulator.faults.chat_latency = 0.01
    emulator.faults.max_concurrency = 3

    outcomes, stats = run(client, items(240), concurrency=6, max_attempts=10)

    assert all(o.error is None for o in outcomes.values()) and len(outcomes) == 240
    assert stats.learned_cap == 3
    assert emulator.stats.max_in_flight <= 6
    # Finding the cap costs a few refusals, then one or two per (ever rarer) probe above it;
    # halving and growing back, as before, cost about one in seven requests.
    assert emulator.stats.chat_429s <= 20
    assert stats.sent == 240 + emulator.stats.chat_429s


def serve(limiter: _Limiter, caps: Iterable[int], completions: int) -> int:
    """Drive ``limiter`` against a simulated server; return how many requests it refused.

    Requests arrive in order; one beyond the server's cap (``caps`` gives it for each
    completion) is refused at once and its sender waits for the next step, at which the
    oldest request in flight completes.
    """
    in_flight: deque[_Task] = deque()
    refused = 0
    for _, cap in zip(range(completions), caps, strict=False):
        while len(in_flight) < limiter.limit:
            task = _Task(key=None, body={}, epoch=limiter.epoch, level=len(in_flight) + 1)
            in_flight.append(task)
            for sent in in_flight:
                sent.peak = max(sent.peak, len(in_flight))
            if len(in_flight) > cap:
                refused += 1
                limiter.throttled(in_flight.pop(), "1302")
                break
        limiter.success(in_flight.popleft())
    return refused


def test_the_limiter_settles_under_a_cap_below_its_ceiling_with_few_refusals():
    stats = RunStats()
    limiter = _Limiter(5, 1, stats, clock=lambda: 0.0)

    refused = serve(limiter, itertools.repeat(3), 1000)

    assert limiter.cap == stats.learned_cap == 3
    assert stats.min_limit == 3 and limiter.limit == 3
    # One refusal finds the cap; probes above it come after 24, 48, 96, then every 192
    # successes: 8 refusals in all, where halving and growing back refused one in seven.
    assert refused == 8


def test_the_limiter_finds_a_cap_that_has_risen_by_probing():
    stats = RunStats()
    limiter = _Limiter(8, 1, stats, clock=lambda: 0.0)
    caps = itertools.chain(itertools.repeat(2, 300), itertools.repeat(6))

    refused = serve(limiter, caps, 2000)

    assert limiter.cap == 6 and limiter.limit in (6, 7)
    assert refused < 20


def test_the_limiter_never_goes_below_its_floor():
    stats = RunStats()
    limiter = _Limiter(5, 2, stats, clock=lambda: 0.0)

    serve(limiter, itertools.repeat(1), 200)

    assert limiter.cap == stats.min_limit == 2


def test_it_retries_server_errors(client, emulator):
    emulator.faults.chat_500_every = 3

    outcomes, stats = run(client, items(30), concurrency=4, max_attempts=10)

    assert all(o.error is None for o in outcomes.values()) and len(outcomes) == 30
    assert stats.server_errors == emulator.stats.status_counts[500] == stats.retried > 0
    assert sum(o.attempts for o in outcomes.values()) == stats.sent == 30 + stats.retried
    assert stats.min_limit == 4  # 5xx back off but do not lower the limit


def test_it_gives_up_on_timeouts_after_max_attempts(emulator):
    emulator.faults.chat_hang = 2.0
    client = ZhipuClient(API_KEY, emulator.base_url, timeout=0.1)

    outcomes, stats = run(client, items(3), concurrency=3, max_attempts=2)

    assert len(outcomes) == 3
    for outcome in outcomes.values():
        assert outcome.reply is None and outcome.attempts == 2
        assert outcome.error.status is None and "timeout" in outcome.error.message
    assert (stats.timeouts, stats.retried, stats.failed) == (6, 3, 3)
    assert emulator.stats.chat_requests == 6


def test_it_does_not_retry_sensitive_input(client, emulator):
    emulator.faults.chat_sensitive_input = lambda _id, body: (
        "敏感" in json.dumps(body, ensure_ascii=False)
    )
    work = items(6) + items(2, text="敏感")

    outcomes, stats = run(client, work, max_attempts=5)

    flagged = [o for o in outcomes.values() if o.error is not None]
    assert len(flagged) == 2
    assert all(o.attempts == 1 and o.error.code == "1301" for o in flagged)
    assert emulator.stats.chat_requests == 8 == stats.sent
    assert (stats.succeeded, stats.failed, stats.retried) == (6, 2, 0)


def test_it_does_not_retry_a_reply_blocked_as_sensitive(client, emulator):
    emulator.faults.chat_sensitive_replies = 2

    outcomes, stats = run(client, items(10), concurrency=1, max_attempts=5)

    blocked = [o for o in outcomes.values() if o.error is not None]
    assert len(blocked) == 5
    assert all(o.attempts == 1 and o.error.code == "sensitive" for o in blocked)
    assert stats.sent == emulator.stats.chat_requests == 10


def test_it_returns_malformed_replies_as_successes(client, emulator):
    emulator.faults.malformed_replies = 2

    outcomes, stats = run(client, items(10))

    assert all(o.error is None and o.attempts == 1 for o in outcomes.values())
    assert sum(o.reply.content == GARBAGE_REPLY for o in outcomes.values()) == 5
    assert stats.succeeded == 10


def test_it_stops_sending_when_the_balance_runs_out(client, emulator):
    emulator.faults.chat_latency = 0.02
    answered = 0

    def model(body: dict) -> str:
        nonlocal answered
        answered += 1
        if answered == 10:
            emulator.faults.chat_balance_exhausted = True
        return "{}"

    emulator.model = model
    outcomes: dict[str, Outcome] = {}

    with pytest.raises(RunStopped) as raised:
        run_chat(
            client,
            items(100),
            concurrency=4,
            base_delay=0.01,
            on_outcome=lambda o: outcomes.setdefault(o.key, o),
        )

    assert "智谱账户余额不足" in str(raised.value) and "已停止" in str(raised.value)
    assert raised.value.error.code == "1113"
    seen = emulator.stats
    # After the first 1113 nothing new is sent: only requests already in flight went out.
    assert 0 < seen.code_counts["1113"] <= 4
    assert seen.chat_requests == seen.chat_ok + seen.code_counts["1113"] <= seen.chat_ok + 4
    assert len(outcomes) == seen.chat_ok == raised.value.stats.succeeded >= 10
    assert all(o.error is None for o in outcomes.values())


def test_it_sends_nothing_more_when_the_balance_is_empty_from_the_start(client, emulator):
    emulator.faults.chat_balance_exhausted = True
    outcomes: list[Outcome] = []

    with pytest.raises(RunStopped):
        run_chat(client, items(50), concurrency=3, on_outcome=outcomes.append, base_delay=0.01)

    assert emulator.stats.chat_requests == 3
    assert outcomes == []


def test_it_halves_its_limit_when_the_model_is_busy(client, emulator):
    emulator.faults.chat_latency = 0.01
    emulator.faults.chat_429_every = 5
    emulator.faults.chat_429_codes = ["1312"]

    outcomes, stats = run(client, items(40), concurrency=4, max_attempts=10)

    assert all(o.error is None for o in outcomes.values()) and len(outcomes) == 40
    assert stats.throttled == emulator.stats.code_counts["1312"] == stats.retried > 0
    assert stats.min_limit <= 2  # halved like any throttle...
    assert stats.learned_cap == 4  # ...but a busy model says nothing about our concurrency


def lacks_balance(emulator: ZhipuEmulator) -> None:
    emulator.faults.chat_balance_exhausted = True


def has_another_key(emulator: ZhipuEmulator) -> None:
    emulator.api_key = "other.key"


@pytest.mark.parametrize(
    ("fault", "advice"),
    [(has_another_key, "API Key 无效"), (lacks_balance, "余额不足")],
)
def test_it_stops_after_at_most_concurrency_requests_on_an_account_fault(
    client, emulator, fault, advice
):
    fault(emulator)
    read = 0

    def lazily() -> Iterator[tuple[str, dict]]:
        nonlocal read
        for item in items(50):
            read += 1
            yield item

    outcomes: list[Outcome] = []
    with pytest.raises(RunStopped) as raised:
        run_chat(client, lazily(), concurrency=3, on_outcome=outcomes.append, base_delay=0.01)

    assert advice in str(raised.value) and raised.value.error.fatal
    sent = [r for r in emulator.requests if r.path.endswith("/chat/completions")]
    assert len(sent) == raised.value.stats.sent <= 3
    assert read <= 3 and outcomes == []
