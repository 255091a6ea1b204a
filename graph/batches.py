"""Batch files and the Batch API: write tasks as JSONL, submit them as Zhipu batches, poll them,
collect their results onto the tasks. (What to send and when to apply is graph/dispatch.py.)

Durability rules: a BatchJob row and its local input file exist before anything is uploaded; the
remote batch id is saved the moment the server returns it (and the job's id travels in the batch
metadata, so a job whose process died before saving it is found again and adopted, never submitted
twice); downloaded result files are stored on the job before any line is parsed; settling a job's
tasks and marking it done happen in one transaction; result files are deleted on the server once
they are stored here (it keeps at most ~1,000 files per account).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from graph import embedding_jobs
from graph.cooccurrence import request_tokens
from graph.llm.zhipu import (
    BATCH_ENDPOINT,
    TERMINAL_STATUSES,
    ZhipuClient,
    ZhipuError,
    parse_result_line,
    result_lines,
)
from graph.models import ERROR_CHARS, BatchJob, LLMTask, Novel, Origin
from graph.progress import Progress

METADATA_KEY = BatchJob.METADATA_KEY
MAX_POLL_ERRORS = 20  # transient errors in a row before a job is given up (backoff reaches 1 h)
BACKOFF_FIRST_SECONDS = 30  # a job whose poll failed waits this long, doubled per error...
BACKOFF_MAX_SECONDS = 3600  # ...up to an hour


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


def _file_chunks(tasks: list[LLMTask]) -> list[Chunk]:
    return list(chunks(tasks, settings.BATCH_MAX_LINES, settings.BATCH_MAX_BYTES))


def plan(novel: Novel) -> list[dict]:
    """What `submit` would send: per batch file, the requests, bytes and estimated input tokens."""
    return [
        {
            "requests": len(chunk.tasks),
            "bytes": len(chunk.data),
            "input_tokens": sum(request_tokens(t.request) for t in chunk.tasks),
        }
        for chunk in _file_chunks(list(novel.tasks.to_send().order_by("id")))
    ]


# --- Submitting ------------------------------------------------------------------------------


def submit(novel: Novel, client: ZhipuClient) -> list[BatchJob]:
    """Send every task of the novel still to send, in as many batches as the limits need.
    A fatal error (bad key, file refused whole…) gives the job's tasks back unsent and is raised."""
    jobs = []
    pending = _file_chunks(list(novel.tasks.to_send().order_by("id")))
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
                _release(job, f"文件过大，已拆分重试：{exc.message}", client)
                half = len(chunk.tasks) // 2
                pending[:0] = [
                    Chunk(part, b"".join(map(jsonl_line, part)))
                    for part in (chunk.tasks[:half], chunk.tasks[half:])
                ]
                continue
            if exc.fatal:
                _release(job, exc.user_line, client)
            else:  # left submitting: a poller sends it again later (_recover_submitting)
                job.note_error(exc.message)
            raise
        jobs.append(job)
    return jobs


def _create_job(novel: Novel, chunk: Chunk) -> tuple[BatchJob, Chunk] | None:
    """A job row for the chunk's tasks, then its local input file. The tasks are taken with a
    conditional UPDATE, so a task another submitter took since it was read is left out and no
    task goes into two batches; None when none is left."""
    with transaction.atomic():
        job = BatchJob.objects.create(novel=novel, line_count=len(chunk.tasks))
        taken = LLMTask.objects.filter(pk__in=[t.pk for t in chunk.tasks]).take_for(job)
        if taken == 0:
            job.delete()
            return None
        if taken < len(chunk.tasks):
            kept = set(job.tasks.values_list("pk", flat=True))
            tasks = [t for t in chunk.tasks if t.pk in kept]
            chunk = Chunk(tasks, b"".join(map(jsonl_line, tasks)))
            BatchJob.objects.filter(pk=job.pk).update(line_count=len(tasks))
    _write_input(job, chunk.data)
    return job, chunk


def _write_input(job: BatchJob, data: bytes) -> None:
    path = Path(settings.BATCH_DIR) / f"novel-{job.novel_id}" / f"job-{job.pk}.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    job.record_input_path(str(path))


def _input_data(job: BatchJob) -> bytes:
    """The job's JSONL: its local copy, or, when its submitter died before writing that copy,
    rebuilt from the job's tasks (and written again)."""
    if job.input_path and Path(job.input_path).is_file():
        return Path(job.input_path).read_bytes()
    data = b"".join(map(jsonl_line, job.tasks.order_by("id")))
    _write_input(job, data)
    return data


def _release(job: BatchJob, reason: str, client: ZhipuClient) -> None:
    """Give a job's tasks back (unsent, no attempt counted) and close it; an input file it
    uploaded without a batch over it is deleted."""
    with transaction.atomic():
        job.tasks.give_back()
        job.close(BatchJob.Status.FAILED, reason)
    if job.input_file_id:
        _delete_files(client, [job.input_file_id])


def _upload_and_create(job: BatchJob, client: ZhipuClient, data: bytes | None = None) -> None:
    if not job.input_file_id:
        data = data if data is not None else _input_data(job)
        job.record_upload(client.upload_batch_file(f"novelgraph-job-{job.pk}.jsonl", data))
    info = client.create_batch(job.input_file_id, metadata={METADATA_KEY: str(job.pk)})
    job.adopt(info.id, info.status)


def cancel_job(job: BatchJob, client: ZhipuClient) -> None:
    """Ask the server to cancel a running batch; the poller collects it when it is cancelled."""
    if not job.remote_id:
        raise ValueError(f"批处理任务 {job.pk} 还没有远程 ID，无法取消")
    info = client.cancel_batch(job.remote_id)
    BatchJob.objects.filter(pk=job.pk).update(remote_status=info.status)


# --- Polling ---------------------------------------------------------------------------------


COLLECTED, OVERDUE = "collected", "overdue"


def advance(job: BatchJob, client: ZhipuClient, progress: Progress) -> str | None:
    """Move a claimed job one step: recover, poll, collect, or give up on it past the deadline.
    Returns COLLECTED when its tasks were settled (the caller resubmits what failed or applies
    the graph), OVERDUE when it was cancelled and its tasks given back for another way."""
    if job.status == BatchJob.Status.SUBMITTING:
        _recover_submitting(job, client, progress)
    if job.status == BatchJob.Status.SUBMITTED:
        _poll(job, client, progress)
        if job.status == BatchJob.Status.SUBMITTED and overdue(job):
            _cancel_overdue(job, client, progress)
            return OVERDUE
    if job.status != BatchJob.Status.COLLECTING:
        return None
    _download(job, client)
    settled = embedding_jobs.collect(job) if job.endpoint == BatchJob.EMBEDDINGS else collect(job)
    progress.line(f"✅ 批处理 {job.remote_id} 已收取：{settled} 个任务")
    _delete_files(client, [job.output_file_id, job.error_file_id], progress)
    return COLLECTED


def overdue(job: BatchJob) -> bool:
    """Submitted longer ago than BATCH_DEADLINE_HOURS and still not finished."""
    deadline = timedelta(hours=settings.BATCH_DEADLINE_HOURS)
    return job.submitted_at is not None and job.submitted_at < timezone.now() - deadline


def _cancel_overdue(job: BatchJob, client: ZhipuClient, progress: Progress) -> None:
    """Cancel a batch past its deadline and give its tasks back, unsent and uncounted."""
    try:
        client.cancel_batch(job.remote_id)
    except ZhipuError as exc:
        if exc.fatal:
            raise
        progress.line(f"取消批处理 {job.remote_id} 未成功（其结果不再收取）：{exc.message}")
    reason = f"超过 {settings.BATCH_DEADLINE_HOURS} 小时仍未完成，已取消，改用其他方式作答"
    with transaction.atomic():
        job.tasks.give_back()
        job.close(BatchJob.Status.FAILED, reason)
    progress.line(f"⏰ 批处理 {job.remote_id} {reason}")


def record_poll_error(job: BatchJob, exc: ZhipuError, progress: Progress) -> None:
    """A poll that failed: a job the server cannot serve any more gives its tasks back (each
    counts a failed attempt); a transient error pushes the job back, longer each time."""
    errors = job.note_error(exc.message)
    progress.line(f"批处理 {job} 出错（第 {errors} 次）：{exc.message}")
    job.refresh_from_db(fields=["status"])
    if job.status in BatchJob.OPEN and (exc.permanent or errors >= MAX_POLL_ERRORS):
        fail_job(job, f"批处理无法继续：{exc.message}")
        job.release()
        return
    wait = min(BACKOFF_MAX_SECONDS, BACKOFF_FIRST_SECONDS * 2**errors)
    job.release(next_poll=timezone.now() + timedelta(seconds=wait))


def fail_job(job: BatchJob, reason: str) -> None:
    """Close a job that cannot finish; each of its tasks counts one failed attempt."""
    with transaction.atomic():
        tasks = list(job.tasks.filter(status=LLMTask.Status.SUBMITTED).defer("request"))
        for task in tasks:
            task.record_failure(reason)
        LLMTask.save_answers(tasks)
        job.close(BatchJob.Status.FAILED, reason)


def _poll(job: BatchJob, client: ZhipuClient, progress: Progress) -> None:
    info = client.retrieve_batch(job.remote_id)
    fields = {
        "remote_status": info.status,
        "total": info.total,
        "completed": info.completed,
        "failed": info.failed,
        "output_file_id": info.output_file_id or "",
        "error_file_id": info.error_file_id or "",
    }
    if info.status in TERMINAL_STATUSES:
        # Expired and cancelled batches carry no errors.data: keep at least their status.
        reason = "; ".join(info.errors) or f"远程批处理状态为 {info.status}"
        fields |= {
            "status": BatchJob.Status.COLLECTING,
            "completed_at": timezone.now(),
            "last_error": reason[:ERROR_CHARS] if info.status != "completed" else "",
        }
    if job.record_poll(**fields):
        progress.line(progress_line(job))


def progress_line(job: BatchJob) -> str:
    total, done, failed = job.total or job.line_count, job.completed or 0, job.failed or 0
    share = 100 * done / total if total else 0.0
    return (
        f"📊 Batch API进度: {job.remote_status} | {done}/{total} ({share:.1f}%) | 失败: {failed}"
        f"  [《{job.novel.title}》 {job.remote_id}]"
    )


def _recover_submitting(job: BatchJob, client: ZhipuClient, progress: Progress) -> None:
    """A job left half-submitted by a process that died: adopt its remote batch if one exists
    (found by the job id in its metadata, in whatever order the service lists batches), or send
    it now. When the listing could not be read to its end, nothing is sent (no line twice)."""
    if job.created > timezone.now() - timedelta(seconds=settings.BATCH_CLAIM_SECONDS):
        return  # its submitter may still be at work
    found, complete = client.find_batch(METADATA_KEY, str(job.pk))
    if found:
        job.adopt(found.id, found.status)
        progress.line(f"找回了提交中断的批处理 {found.id}（任务 {job.pk}）")
        return
    if job.endpoint == BatchJob.EMBEDDINGS and complete:
        job.close(BatchJob.Status.FAILED, "提交中断，未到达服务器：其段落改用实时向量化")
        return
    if not complete:
        job.note_error("批处理列表太长，未能确认是否已提交：下一轮再查")
        return
    try:
        _upload_and_create(job, client)
    except ZhipuError as exc:
        if not (exc.permanent and job.input_file_id):
            raise
        # The uploaded input is gone (the service deletes files): upload the local copy again.
        job.record_upload("")
        _upload_and_create(job, client)


def _download(job: BatchJob, client: ZhipuClient) -> None:
    """Store the result files on the job before anything is parsed."""
    contents = {}
    if job.output_file_id and not job.output_content:
        contents["output_content"] = client.download_file(job.output_file_id).decode(
            "utf-8", "replace"
        )
    if job.error_file_id and not job.error_content:
        contents["error_content"] = client.download_file(job.error_file_id).decode(
            "utf-8", "replace"
        )
    if contents:
        job.store_results(**contents)


def collect(job: BatchJob) -> int:
    """Settle every task of the job from the stored files; tasks with no line count as failed."""
    lines = {}
    for raw in result_lines(job.output_content + "\n" + job.error_content):
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
                task.record_failure(f"结果文件中没有这一行（{reason}）")
            elif line.ok:
                task.record_reply(
                    line.content or "", Origin.LLM, line.prompt_tokens, line.completion_tokens
                )
            else:  # a refusal may pass another time; attempts bound it
                task.record_failure(f"{line.error_code or ''} {line.error_message or ''}".strip())
        LLMTask.save_answers(tasks)
        job.close(BatchJob.Status.DONE)
    return len(tasks)


def _delete_files(client: ZhipuClient, file_ids: list[str], progress: Progress | None = None):
    """Delete files the service no longer needs to keep for us; a failure only costs space."""
    for file_id in filter(None, file_ids):
        try:
            client.delete_file(file_id)
        except ZhipuError as exc:
            if progress:
                progress.line(f"未能删除远程文件 {file_id}（不影响结果）：{exc.message}")
