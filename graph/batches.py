"""Batch mode: write tasks as JSONL, submit them as Zhipu batches, and collect the results.

Durability rules: a BatchJob row and its local input file exist before anything is uploaded; the
remote batch id is saved the moment the server returns it (and the job's id travels in the batch
metadata, so a job whose process died before saving it is adopted, not submitted twice); downloaded
result files are stored on the job before any line is parsed; settling a job's tasks and marking it
done happen in one transaction. A poller claims a job with a conditional UPDATE on `claimed_until`,
so two pollers never work on one job, and a job left by a killed poller is taken over when its
claim runs out.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from graph import results
from graph.cooccurrence import request_tokens
from graph.llm.zhipu import (
    BATCH_ENDPOINT,
    TERMINAL_STATUSES,
    ZhipuClient,
    ZhipuError,
    parse_result_line,
)
from graph.models import TO_SEND, BatchJob, LLMTask, Novel, Origin

log = logging.getLogger(__name__)
OPEN = [BatchJob.Status.SUBMITTING, BatchJob.Status.SUBMITTED, BatchJob.Status.COLLECTING]
MAX_POLL_ERRORS = 20  # transient errors in a row before a job is given up (backoff reaches 1 h)
METADATA_KEY = "novelgraph_job"


@dataclass
class Chunk:
    tasks: list[LLMTask]
    data: bytes


def jsonl_line(task: LLMTask) -> bytes:
    line = {
        "custom_id": task.custom_id,
        "method": "POST",
        "url": BATCH_ENDPOINT,
        "body": task.request,
    }
    return (json.dumps(line, ensure_ascii=False, separators=(",", ":")) + "\n").encode()


def chunks(tasks: list[LLMTask], max_lines: int, max_bytes: int) -> Iterator[Chunk]:
    """Split tasks into batch files: one model per file, under the line and byte limits."""
    by_model: dict[str, list[LLMTask]] = {}
    for task in tasks:
        by_model.setdefault(task.request.get("model", ""), []).append(task)
    for group in by_model.values():
        current, lines, size = [], [], 0
        for task in group:
            line = jsonl_line(task)
            if current and (len(current) >= max_lines or size + len(line) > max_bytes):
                yield Chunk(current, b"".join(lines))
                current, lines, size = [], [], 0
            current.append(task)
            lines.append(line)
            size += len(line)
        if current:
            yield Chunk(current, b"".join(lines))


def sendable(novel: Novel):
    """Tasks of a novel that still need an answer and are in no open batch."""
    return novel.tasks.filter(status__in=TO_SEND).filter(
        Q(batch_job__isnull=True) | ~Q(batch_job__status__in=OPEN)
    )


def plan(novel: Novel) -> list[dict]:
    """What `submit` would send: per batch file, the requests, bytes and estimated input tokens."""
    tasks = list(sendable(novel).order_by("id"))
    return [
        {
            "requests": len(chunk.tasks),
            "bytes": len(chunk.data),
            "input_tokens": sum(request_tokens(t.request) for t in chunk.tasks),
        }
        for chunk in chunks(tasks, settings.BATCH_MAX_LINES, settings.BATCH_MAX_BYTES)
    ]


def submit(novel: Novel, client: ZhipuClient) -> list[BatchJob]:
    """Send every sendable task of the novel in as many batches as the limits need."""
    tasks = list(sendable(novel).order_by("id"))
    jobs = []
    pending = list(chunks(tasks, settings.BATCH_MAX_LINES, settings.BATCH_MAX_BYTES))
    while pending:
        created = _create_job(novel, pending.pop(0))
        if created is None:
            continue  # another submitter sent these tasks a moment ago
        job, chunk = created
        try:
            _upload_and_create(job, client, chunk.data)
        except ZhipuError as exc:
            if exc.too_large and len(chunk.tasks) > 1:
                # The server refused the size (HTTP 435): split the file in two and send both.
                _release(job, f"文件过大，已拆分重试：{exc.message}")
                half = len(chunk.tasks) // 2
                pending[:0] = [
                    Chunk(part, b"".join(map(jsonl_line, part)))
                    for part in (chunk.tasks[:half], chunk.tasks[half:])
                ]
                continue
            job.last_error = exc.message
            job.save(update_fields=["last_error"])
            raise
        jobs.append(job)
    return jobs


def _create_job(novel: Novel, chunk: Chunk) -> tuple[BatchJob, Chunk] | None:
    """A job row for the chunk's tasks, then its local input file. The tasks are claimed with a
    conditional UPDATE, so a task another submitter (a second poller) took since it was read is
    left out and no task goes into two batches; None when none is left."""
    with transaction.atomic():
        job = BatchJob.objects.create(novel=novel, line_count=len(chunk.tasks))
        taken = LLMTask.objects.filter(
            pk__in=[t.pk for t in chunk.tasks],
            status__in=TO_SEND,
        ).update(batch_job=job, status=LLMTask.Status.SUBMITTED)
        if taken == 0:
            job.delete()
            return None
        if taken < len(chunk.tasks):
            kept = set(job.tasks.values_list("pk", flat=True))
            tasks = [t for t in chunk.tasks if t.pk in kept]
            chunk = Chunk(tasks, b"".join(map(jsonl_line, tasks)))
            job.line_count = len(tasks)
            job.save(update_fields=["line_count"])
    _write_input(job, chunk.data)
    return job, chunk


def _write_input(job: BatchJob, data: bytes) -> None:
    path = Path(settings.BATCH_DIR) / f"novel-{job.novel_id}" / f"job-{job.pk}.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    job.input_path = str(path)
    job.save(update_fields=["input_path"])


def _input_data(job: BatchJob) -> bytes:
    """The job's JSONL: its local copy, or, when its submitter died before writing that copy,
    rebuilt from the job's tasks (and written again)."""
    if job.input_path and Path(job.input_path).is_file():
        return Path(job.input_path).read_bytes()
    data = b"".join(map(jsonl_line, job.tasks.order_by("id")))
    _write_input(job, data)
    return data


def _release(job: BatchJob, reason: str) -> None:
    """Give a job's tasks back (unsent) and close the job."""
    with transaction.atomic():
        job.tasks.update(batch_job=None, status=LLMTask.Status.PENDING)
        job.status, job.last_error = BatchJob.Status.FAILED, reason
        job.save(update_fields=["status", "last_error"])


def _upload_and_create(job: BatchJob, client: ZhipuClient, data: bytes | None = None) -> None:
    if not job.input_file_id:
        if data is None:
            data = _input_data(job)
        job.input_file_id = client.upload_batch_file(f"novelgraph-job-{job.pk}.jsonl", data)
        job.save(update_fields=["input_file_id"])
    info = client.create_batch(job.input_file_id, metadata={METADATA_KEY: str(job.pk)})
    _adopt(job, info.id, info.status)


def _adopt(job: BatchJob, remote_id: str, remote_status: str) -> None:
    job.remote_id, job.remote_status = remote_id, remote_status
    job.status, job.submitted_at, job.last_error = BatchJob.Status.SUBMITTED, timezone.now(), ""
    job.save(update_fields=["remote_id", "remote_status", "status", "submitted_at", "last_error"])


def cancel_job(job: BatchJob, client: ZhipuClient | None = None) -> None:
    """Ask the server to cancel a running batch; the poller collects it when it is cancelled."""
    if not job.remote_id:
        raise ValueError(f"批处理任务 {job.pk} 还没有远程 ID，无法取消")
    client = client or _default_client()
    info = client.cancel_batch(job.remote_id)
    BatchJob.objects.filter(pk=job.pk).update(remote_status=info.status)


def _default_client() -> ZhipuClient:
    from graph.llm.zhipu import client_from_settings

    return client_from_settings()


# --- Polling ---------------------------------------------------------------------------------


def claim_next(now=None, skip=()) -> BatchJob | None:
    """Claim the open job polled longest ago that nobody holds; None when there is none."""
    now = now or timezone.now()
    lease = timedelta(seconds=settings.BATCH_CLAIM_SECONDS)
    candidates = (
        BatchJob.objects.filter(status__in=OPEN)
        .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
        .exclude(pk__in=list(skip))
        .order_by("last_polled", "pk")
        .values_list("pk", "claimed_until")[:20]
    )
    for pk, held in candidates:
        claimed = BatchJob.objects.filter(pk=pk, status__in=OPEN, claimed_until=held).update(
            claimed_until=now + lease
        )
        if claimed == 1:
            return BatchJob.objects.select_related("novel").get(pk=pk)
    return None


def handle_one_batch(client: ZhipuClient, report=print, skip=()) -> int | None:
    """Advance one open batch job (not one of `skip`, the jobs this run already handled).
    Returns its id, or None when there was nothing to do."""
    job = claim_next(skip=skip)
    if job is None:
        return None
    try:
        advance(job, client, report)
    except ZhipuError as exc:
        if exc.fatal:
            _unclaim(job)
            raise
        job.attempts += 1
        job.last_error = exc.message
        job.save(update_fields=["attempts", "last_error"])
        report(f"批处理 {job} 出错（第 {job.attempts} 次）：{exc.message}")
        job.refresh_from_db(fields=["status"])
        if job.status in OPEN and (exc.permanent or job.attempts >= MAX_POLL_ERRORS):
            # Asking again cannot help (e.g. the server no longer knows the batch): give the
            # tasks back for a new batch, so the novel still completes.
            fail_job(job, f"批处理无法继续：{exc.message}")
            _unclaim(job)
            return job.pk
        # A poison job is pushed back in time so the others go first, then retried later.
        BatchJob.objects.filter(pk=job.pk).update(
            claimed_until=timezone.now() + timedelta(seconds=min(3600, 30 * 2**job.attempts))
        )
        return job.pk
    _unclaim(job)
    return job.pk


def fail_job(job: BatchJob, reason: str) -> None:
    """Close a job that cannot finish; each of its tasks counts one failed attempt."""
    with transaction.atomic():
        tasks = list(job.tasks.filter(status=LLMTask.Status.SUBMITTED).defer("request"))
        for task in tasks:
            results.record_failure(task, reason)
        results.save_settled(tasks)
        job.status, job.last_error = BatchJob.Status.FAILED, reason[:2000]
        job.save(update_fields=["status", "last_error"])


def _unclaim(job: BatchJob) -> None:
    BatchJob.objects.filter(pk=job.pk).update(claimed_until=None, last_polled=timezone.now())


def advance(job: BatchJob, client: ZhipuClient, report) -> None:
    if job.status == BatchJob.Status.SUBMITTING:
        _recover_submitting(job, client)
    if job.status == BatchJob.Status.SUBMITTED:
        info = client.retrieve_batch(job.remote_id)
        now = timezone.now()
        fields = {
            "remote_status": info.status,
            "total": info.total,
            "completed": info.completed,
            "failed": info.failed,
            "output_file_id": info.output_file_id or "",
            "error_file_id": info.error_file_id or "",
            "last_polled": now,
        }
        if info.status in TERMINAL_STATUSES:
            # Expired and cancelled batches carry no errors.data: keep at least their status.
            reason = "; ".join(info.errors) or f"远程批处理状态为 {info.status}"
            fields |= {
                "status": BatchJob.Status.COLLECTING,
                "completed_at": now,
                "last_error": reason[:2000] if info.status != "completed" else "",
            }
        # Conditional: a poller whose claim ran out must not overwrite what its successor wrote.
        if not BatchJob.objects.filter(pk=job.pk, status=BatchJob.Status.SUBMITTED).update(
            **fields
        ):
            return
        for name, value in fields.items():
            setattr(job, name, value)
        report(progress_line(job))
    if job.status == BatchJob.Status.COLLECTING:
        _download(job, client)
        settled = collect(job)
        report(f"✅ 批处理 {job.remote_id} 已收取：{settled} 个任务")
        followup(job.novel, client, report)


def progress_line(job: BatchJob) -> str:
    total, done, failed = job.total or job.line_count, job.completed or 0, job.failed or 0
    share = 100 * done / total if total else 0.0
    return (
        f"📊 Batch API进度: {job.remote_status} | {done}/{total} ({share:.1f}%) | 失败: {failed}"
        f"  [《{job.novel.title}》 {job.remote_id}]"
    )


def _recover_submitting(job: BatchJob, client: ZhipuClient) -> None:
    """A job left half-submitted by a process that died: adopt its remote batch or send it now."""
    if job.created > timezone.now() - timedelta(seconds=settings.BATCH_CLAIM_SECONDS):
        return  # its submitter may still be at work
    # Every batch created since the job row was: the remote one, if any, is among them.
    since = job.created - timedelta(minutes=10)
    for info in client.list_batches(limit=100_000, created_after=since):
        if info.metadata.get(METADATA_KEY) == str(job.pk):
            _adopt(job, info.id, info.status)
            return
    _upload_and_create(job, client)


def _download(job: BatchJob, client: ZhipuClient) -> None:
    """Store the result files on the job before anything is parsed."""
    changed = []
    if job.output_file_id and not job.output_content:
        job.output_content = client.download_file(job.output_file_id).decode("utf-8", "replace")
        changed.append("output_content")
    if job.error_file_id and not job.error_content:
        job.error_content = client.download_file(job.error_file_id).decode("utf-8", "replace")
        changed.append("error_content")
    if changed:
        job.save(update_fields=changed)


def collect(job: BatchJob) -> int:
    """Settle every task of the job from the stored files; tasks with no line count as failed."""
    lines = {}
    for raw in (job.output_content + "\n" + job.error_content).splitlines():
        if raw.strip():
            line = parse_result_line(raw)
            if line.custom_id:
                lines.setdefault(line.custom_id, line)
    reason = f"批处理状态为 {job.remote_status}" + (f"：{job.last_error}" if job.last_error else "")
    with transaction.atomic():
        tasks = list(
            job.tasks.filter(status=LLMTask.Status.SUBMITTED).defer("request").select_for_update()
        )
        for task in tasks:
            line = lines.get(task.custom_id)
            if line is None:
                results.record_failure(task, f"结果文件中没有这一行（{reason}）")
            elif line.ok:
                results.record_reply(
                    task, line.content or "", Origin.LLM, line.prompt_tokens, line.completion_tokens
                )
            else:
                permanent = False  # a refusal may pass another time; attempts bound it
                results.record_failure(
                    task,
                    f"{line.error_code or ''} {line.error_message or ''}".strip(),
                    permanent=permanent,
                )
        results.save_settled(tasks)
        job.status = BatchJob.Status.DONE
        job.save(update_fields=["status"])
    return len(tasks)


def followup(novel: Novel, client: ZhipuClient, report) -> None:
    """After a job: resubmit what failed, or write the graph when everything is settled."""
    novel.refresh_from_db(fields=["stage"])
    if novel.stage not in (Novel.Stage.TASKS, Novel.Stage.DISPATCHED):
        return
    if sendable(novel).exists():
        for job in submit(novel, client):
            report(f"🔁 重新提交 {job.line_count} 个任务：批处理 {job.remote_id}")
    if novel.stage == Novel.Stage.TASKS:
        # upload_novel died while submitting: every task is sent now, so the stage is done.
        novel.finish_stage(Novel.Stage.DISPATCHED)
    if results.apply_if_settled(novel):
        report(f"🎉 《{novel.title}》的图谱已写入")


def sweep(client: ZhipuClient, report) -> None:
    """Novels waiting on batches with nothing in flight: resubmit or apply (after a crash, or a
    retry from the admin). A novel still at the task stage is included once its batch dispatch
    has begun (a job exists for its current tasks): upload_novel died while submitting."""
    waiting = (
        Novel.objects.filter(mode="batch")
        .filter(
            Q(stage=Novel.Stage.DISPATCHED)
            | Q(stage=Novel.Stage.TASKS, batch_jobs__created__gte=F("tasks_at"))
        )
        .exclude(batch_jobs__status__in=OPEN)
        .distinct()
    )
    for novel in waiting:
        try:
            followup(novel, client, report)
        except ZhipuError as exc:
            if exc.fatal:
                raise
            # One novel's trouble (say, a refused upload) must not hold up the others.
            Novel.objects.filter(pk=novel.pk).update(last_error=exc.message[:2000])
            report(f"《{novel.title}》重新提交失败，下一轮再试：{exc.message}")


def poll_once(client: ZhipuClient, report=print) -> int:
    """One polling round: resubmit or apply what waits, then advance every open job once."""
    sweep(client, report)
    seen: set[int] = set()
    while (job_id := handle_one_batch(client, report, skip=seen)) is not None:
        seen.add(job_id)
    return len(seen)
