"""Answering a novel's tasks here and now: by the offline rules, or by realtime chat completions.
(Batch mode lives in graph/batches.py.) Replies are settled into the LLMTask rows."""

from __future__ import annotations

from django.conf import settings

from graph import results
from graph.llm import offline
from graph.llm.realtime import Outcome, run_chat
from graph.llm.zhipu import ZhipuClient
from graph.models import TO_SEND, LLMTask, Novel, Origin
from graph.progress import Progress

SAVE_EVERY = 50  # realtime answers kept in memory at most before they are written
HTTP_TRIES = 6  # tries per request through 429s, 5xx and timeouts (with backoff) before it fails


def unsettled(novel: Novel):
    return novel.tasks.filter(status__in=TO_SEND)


def answer_offline(novel: Novel, progress: Progress) -> None:
    pending = list(unsettled(novel))
    bar = progress.bar("离线规则作答", len(pending))
    for task in pending:
        results.record_reply(task, offline.answer(task.request), Origin.OFFLINE)
        if task.status == LLMTask.Status.FAILED:  # the rules will not answer differently next time
            results.record_failure(task, task.last_error, counted=False, permanent=True)
        bar.advance()
    results.save_settled(pending)


def answer_realtime(novel: Novel, client: ZhipuClient, progress: Progress) -> None:
    """Concurrent chat completions; unparseable replies are asked again, up to LLM_MAX_ATTEMPTS.
    Raises RunStopped (after saving every answer received) when the account runs dry."""
    total = unsettled(novel).count()
    bar = progress.bar("实时 API 作答", total)
    for _round in range(settings.LLM_MAX_ATTEMPTS):
        tasks = {t.pk: t for t in unsettled(novel)}
        if not tasks:
            return
        groups = (
            (
                [k for k, t in tasks.items() if t.kind != LLMTask.Kind.ATTRIBUTE],
                settings.REALTIME_CONCURRENCY_RELATION,
            ),
            (
                [k for k, t in tasks.items() if t.kind == LLMTask.Kind.ATTRIBUTE],
                settings.REALTIME_CONCURRENCY_ATTRIBUTE,
            ),
        )
        for keys, concurrency in groups:
            if keys:
                _run_group(client, [tasks[k] for k in keys], concurrency, bar)


def _run_group(client: ZhipuClient, tasks: list[LLMTask], concurrency: int, bar) -> None:
    by_key = {t.pk: t for t in tasks}
    done: list[LLMTask] = []

    def on_outcome(outcome: Outcome) -> None:
        task = by_key[outcome.key]
        # A task's attempts count answers and final failures, not the HTTP tries behind them:
        # a 429 storm must not use up the attempts a task has for unparseable replies.
        if outcome.reply is not None:
            reply = outcome.reply
            results.record_reply(
                task, reply.content, Origin.LLM, reply.prompt_tokens, reply.completion_tokens
            )
        else:
            error = outcome.error
            results.record_failure(task, error.message, permanent=error.permanent)
        if task.settled:
            bar.advance()
        done.append(task)
        if len(done) >= SAVE_EVERY:
            results.save_settled(done)
            done.clear()

    try:
        run_chat(
            client,
            ((t.pk, t.request) for t in tasks),
            concurrency=concurrency,
            on_outcome=on_outcome,
            max_attempts=HTTP_TRIES,
        )
    finally:
        results.save_settled(done)
