"""The answer half of the pipeline, one path for every caller: what still needs an answer, sending
it the way the mode says, and applying the graph once every task is settled.

`upload_novel` calls `run` after the local stages; `poll_batches` (and `upload_novel --wait`) call
`poll`; the admin's retry action calls `retry`. Offline and realtime modes answer here and now;
batch mode submits through graph/batches.py and `poll` carries each batch to its end. Settled
answers are applied by graph/results.py. Everything reports through one `Progress`.
"""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone

from graph import batches, embedding_jobs, results
from graph.cooccurrence import request_tokens
from graph.llm import offline
from graph.llm.realtime import Outcome, RunStopped, run_chat
from graph.llm.zhipu import ZhipuClient, ZhipuError, client_from_settings
from graph.models import UNANSWERED, BatchJob, LLMTask, Mode, Novel, Origin
from graph.progress import Bar, Progress
from graph.prompts import Question

SAVE_EVERY = 50  # realtime answers kept in memory at most before they are written
HTTP_TRIES = 6  # tries per request through 429s, 5xx and timeouts (with backoff) before it fails


def choose_mode(requested: str | None) -> tuple[str, str]:
    """The mode to use and a line to tell the user why, if it is not the one they might expect."""
    if requested == Mode.OFFLINE:
        return Mode.OFFLINE, ""
    if not settings.ZHIPUAI_API_KEY:
        return Mode.OFFLINE, "未设置 ZHIPUAI_API_KEY：使用离线规则构建图谱 (offline mode)"
    if requested:
        return requested, ""
    return (Mode.BATCH if settings.USE_BATCH_API_FOR_GRAPH else Mode.REALTIME), ""


def estimate(novel: Novel) -> dict[str, dict[str, int]]:
    """Requests and estimated input tokens per task kind, for the tasks still to send."""
    figures: dict[str, dict[str, int]] = {}
    for kind, body in novel.tasks.to_send().values_list("kind", "request").iterator():
        entry = figures.setdefault(kind, {"requests": 0, "input_tokens": 0})
        entry["requests"] += 1
        entry["input_tokens"] += request_tokens(body)
    return figures


def run(novel: Novel, *, mode: str, progress: Progress, client: ZhipuClient | None = None) -> bool:
    """Send what still needs an answer, then apply the graph if every task is settled (offline
    and realtime answer at once; batch mode leaves the rest to `poll`). Returns whether the graph
    was written by this call. A fatal ZhipuError or RunStopped leaves the tasks unsent."""
    novel.use_mode(mode)
    if not novel.reached(Novel.Stage.DISPATCHED) or novel.tasks.to_send().exists():
        send(novel, mode, progress, client)
    return finish(novel, progress)


def send(novel: Novel, mode: str, progress: Progress, client: ZhipuClient | None = None) -> None:
    """Ask every question of the novel still to send, the way `mode` says. A batch novel's first
    submission also writes the offline graph at once, marked provisional until the answers land."""
    if mode == Mode.OFFLINE:
        _answer_offline(novel, progress)
    elif mode == Mode.BATCH:
        first = novel.stage == Novel.Stage.TASKS
        _submit(novel, client or client_from_settings(), progress)
        if first:
            results.apply_provisional(novel)
            progress.line("已写入临时图谱（离线规则），批处理结果返回后原地替换")
            if settings.EMBED_PASSAGES:
                embedding_jobs.submit(novel, client or client_from_settings(), progress)
    else:
        _answer_realtime(novel, client or client_from_settings(), progress)
    if novel.stage == Novel.Stage.TASKS:
        novel.advance(Novel.Stage.DISPATCHED, only_from=Novel.Stage.TASKS)


def finish(novel: Novel, progress: Progress) -> bool:
    """Apply the graph when every task is settled (once, whoever gets here first)."""
    if results.apply_if_settled(novel):
        progress.line(f"🎉 《{novel.title}》的图谱已写入数据库")
        return True
    return False


def retry(tasks: QuerySet[LLMTask]) -> tuple[int, int]:
    """Failed or defaulted tasks start again; their finished novels wait for answers again (the
    next `poll` in batch mode, or `upload_novel` in the others, sends them and re-applies).
    Returns (tasks reset, novels reopened)."""
    with transaction.atomic():
        unanswered = tasks.filter(status__in=UNANSWERED)
        novel_ids = set(unanswered.order_by().values_list("novel_id", flat=True))
        count = unanswered.reset()
        reopened = list(Novel.objects.filter(pk__in=novel_ids, stage=Novel.Stage.DONE))
        for novel in reopened:
            novel.reopen(Novel.Stage.DISPATCHED)
    return count, len(reopened)


# --- Offline and realtime: answered here and now ---------------------------------------------


def _answer_offline(novel: Novel, progress: Progress) -> None:
    pending = list(novel.tasks.to_send().defer("request"))
    bar = progress.bar("离线规则作答", len(pending))
    for task in pending:
        task.record_reply(offline.answer(Question.from_json(task.question)), Origin.OFFLINE)
        if task.status == LLMTask.Status.FAILED:  # the rules will not answer differently later
            task.record_failure(task.last_error, counted=False, permanent=True)
        bar.advance()
    LLMTask.save_answers(pending)


def _answer_realtime(novel: Novel, client: ZhipuClient, progress: Progress) -> None:
    """Concurrent chat completions; unparseable replies are asked again, up to LLM_MAX_ATTEMPTS.
    Raises RunStopped (after saving every answer received) on an account-wide fault."""
    bar = progress.bar("实时 API 作答", novel.tasks.to_send().count())
    for _round in range(settings.LLM_MAX_ATTEMPTS):
        tasks = list(novel.tasks.to_send())
        if not tasks:
            return
        attributes = [t for t in tasks if t.kind == LLMTask.Kind.ATTRIBUTE]
        pairs = [t for t in tasks if t.kind != LLMTask.Kind.ATTRIBUTE]
        for group, concurrency in (
            (pairs, settings.REALTIME_CONCURRENCY_RELATION),
            (attributes, settings.REALTIME_CONCURRENCY_ATTRIBUTE),
        ):
            if group:
                _chat_group(client, group, concurrency, bar)


def _chat_group(client: ZhipuClient, tasks: list[LLMTask], concurrency: int, bar: Bar) -> None:
    by_key = {t.pk: t for t in tasks}
    done: list[LLMTask] = []

    def on_outcome(outcome: Outcome) -> None:
        task = by_key[outcome.key]
        # A task's attempts count answers and final failures, not the HTTP tries behind them:
        # a 429 storm must not use up the attempts a task has for unparseable replies.
        if outcome.reply is not None:
            reply = outcome.reply
            task.record_reply(
                reply.content, Origin.LLM, reply.prompt_tokens, reply.completion_tokens
            )
        else:
            task.record_failure(outcome.error.message, permanent=outcome.error.permanent)
        if task.settled:
            bar.advance()
        done.append(task)
        if len(done) >= SAVE_EVERY:
            LLMTask.save_answers(done)
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
        LLMTask.save_answers(done)


# --- Batch mode: submit, then poll until every answer is in ----------------------------------


def _submit(novel: Novel, client: ZhipuClient, progress: Progress, *, again: bool = False) -> None:
    for job in batches.submit(novel, client):
        if again:
            progress.line(f"🔁 重新提交 {job.line_count} 个任务：批处理 {job.remote_id}")
        else:
            progress.line(
                f"已提交批处理 {job.remote_id}：{job.line_count} 个请求（本地副本 {job.input_path}）"
            )


def poll(client: ZhipuClient, progress: Progress) -> int:
    """One polling round: novels waiting with nothing in flight are resumed, then every
    unfinished batch job is advanced once. Returns how many jobs were handled. A fatal error
    (bad key, quota, balance…) is raised at once: every further call would fail the same way."""
    started = timezone.now()
    resume_waiting(client, progress)
    handled = 0
    while process_one_batch(client, progress, polled_before=started):
        handled += 1
    return handled


def process_one_batch(client: ZhipuClient, progress: Progress, polled_before: datetime) -> bool:
    """Claim one job not polled since `polled_before` and move it on; False when none is left.
    The claim takes the job out of the query, so a round visits each job once."""
    job = BatchJob.objects.claim_next(polled_before)
    if job is None:
        return False
    try:
        outcome = batches.advance(job, client, progress)
    except ZhipuError as exc:
        if exc.fatal:
            job.release()
            raise
        batches.record_poll_error(job, exc, progress)
        return True
    job.release()
    if job.endpoint == BatchJob.EMBEDDINGS:
        if outcome:  # what the batch did not embed (failed, expired, overdue) goes realtime
            embedding_jobs.embed_rest(job.novel, client, progress)
        return True
    if outcome == batches.OVERDUE:
        answer_stragglers(job.novel, client, progress)
    if outcome:
        follow_up(job.novel, client, progress)
    return True


def answer_stragglers(novel: Novel, client: ZhipuClient, progress: Progress) -> None:
    """Questions a batch did not answer in time: realtime while the key and quota allow, the
    offline rules for whatever is left, so the novel completes."""
    try:
        _answer_realtime(novel, client, progress)
    except RunStopped as exc:
        progress.line(f"实时作答已停止（{exc.error.user_line}），其余问题用离线规则作答")
    if novel.tasks.to_send().exists():
        _answer_offline(novel, progress)


def follow_up(novel: Novel, client: ZhipuClient, progress: Progress) -> None:
    """A batch novel with nothing in flight: resubmit what still needs an answer, or apply."""
    novel.refresh_from_db(fields=["stage", "tasks_at", "dispatched_at", "applied_at"])
    if novel.stage not in (Novel.Stage.TASKS, Novel.Stage.DISPATCHED):
        return
    if novel.tasks.to_send().exists():
        _submit(novel, client, progress, again=True)
    if novel.stage == Novel.Stage.TASKS:
        # upload_novel died while submitting: every task is sent now, so the stage is done.
        novel.advance(Novel.Stage.DISPATCHED, only_from=Novel.Stage.TASKS)
    finish(novel, progress)


def waiting_novels() -> QuerySet[Novel]:
    """Batch novels with no unfinished job that still wait for answers: after a crash, a retry
    from the admin, or an upload that died while submitting (a job exists for its tasks)."""
    return (
        Novel.objects.filter(mode=Mode.BATCH)
        .filter(
            Q(stage=Novel.Stage.DISPATCHED)
            | Q(stage=Novel.Stage.TASKS, batch_jobs__created__gte=F("tasks_at"))
        )
        .exclude(batch_jobs__status__in=BatchJob.OPEN)
        .distinct()
    )


def resume_waiting(client: ZhipuClient, progress: Progress) -> None:
    for novel in waiting_novels():
        try:
            follow_up(novel, client, progress)
        except ZhipuError as exc:
            if exc.fatal:
                raise
            # One novel's trouble (say, a refused upload) must not hold up the others.
            novel.record_error(exc.message)
            progress.line(f"《{novel.title}》重新提交失败，下一轮再试：{exc.message}")
