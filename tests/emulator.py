"""A local HTTP emulator of the Zhipu API (files, batches, chat completions).

It speaks the same wire format as the real service (see shared/reference/zhipu-api.md,
section 6) so that the real ``zhipuai`` SDK can be pointed at it through ``base_url``.
It needs no Django, so benchmark scripts can import it as well::

    with ZhipuEmulator(model=answer) as emu:
        client = ZhipuClient("id.secret", emu.base_url)
        emu.faults.chat_429_every = 3

Batches move one step per ``GET /batches/{id}``: validating -> in_progress (for
``faults.batch_steps`` polls) -> finalizing -> completed; the model runs over every
input line when the batch completes. ``Faults`` holds the switches that break things.
"""

from __future__ import annotations

import itertools
import json
import re
import threading
import time
import uuid
import zlib
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

PREFIX = "/api/paas/v4"
GARBAGE_REPLY = "抱歉，我无法回答这个问题。"
TERMINAL = frozenset({"failed", "completed", "expired", "cancelled"})

# Which requests a fault hits: a set of custom_ids, every Nth request (int), a share
# of requests (float in (0, 1), decided by a hash so runs repeat), or a predicate
# ``(custom_id_or_None, body) -> bool``. None, 0 and an empty set hit nothing.
Selector = set[str] | frozenset[str] | int | float | Callable[[str | None, dict], bool] | None


def selects(selector: Selector, index: int, custom_id: str | None, body: dict) -> bool:
    """Tell whether ``selector`` picks the request number ``index`` (1-based)."""
    if selector is None or selector is False:
        return False
    if isinstance(selector, set | frozenset):
        return custom_id in selector
    if isinstance(selector, int):
        return selector > 0 and index % selector == 0
    if isinstance(selector, float):
        key = custom_id or json.dumps(body.get("messages"), ensure_ascii=False, sort_keys=True)
        return zlib.crc32(key.encode()) / 2**32 < selector
    return bool(selector(custom_id, body))


def default_model(body: dict) -> str:
    """A stand-in model: every question gets the co-occurrence answer."""
    return json.dumps({"type": "cooccur"})


@dataclass
class Faults:
    """Mutable switches; everything is off by default."""

    batch_steps: int = 1  # GETs that answer in_progress before finalizing
    batch_error_lines: Selector = None  # lines sent to the error file (400, code 1301)
    batch_sensitive_lines: Selector = None  # lines answered 200 with finish_reason sensitive
    batch_expire_half: bool = False  # ends expired; only the first half of lines answered
    batch_fail_validation: bool = False  # ends failed with errors.data
    malformed_replies: Selector = None  # model content replaced by GARBAGE_REPLY
    malformed_reply_rate: float = 0.0  # same, for a hashed share of requests
    chat_429_every: int = 0  # every Nth chat request answers 429
    chat_429_codes: list[str] = field(default_factory=lambda: ["1302"])  # cycled
    chat_500_every: int = 0  # every Nth chat request answers 500
    chat_balance_exhausted: bool = False  # every chat request answers 429 code 1113
    chat_sensitive_input: Selector = None  # 400 code 1301
    chat_sensitive_replies: Selector = None  # 200 with finish_reason sensitive
    chat_latency: float = 0.0  # seconds before each chat answer
    chat_hang: float = 0.0  # seconds to stall before answering (beyond a client timeout)
    max_concurrency: int | None = None  # chat requests in flight past this get 429 1302
    upload_max_bytes: int | None = None  # larger uploads answer HTTP 435
    list_page_max: int = 100  # GET /batches returns at most this many per page
    list_newest_first: bool = False  # the recorded real listing is oldest first
    # (status, code, message) every request of any kind answers: an account-wide fault such as
    # (401, "1002", …) a bad key, (429, "1304", …) the daily quota, (429, "1113", …) no balance.
    account_error: tuple[int, str, str] | None = None
    embedding_batches_refused: bool = False  # POST /batches with /v4/embeddings answers 400
    upload_refusal: tuple[int, str, str] | None = None  # (status, code, message) for POST /files

    def is_malformed(self, index: int, custom_id: str | None, body: dict) -> bool:
        """Tell whether this reply should be replaced by garbage."""
        return selects(self.malformed_replies, index, custom_id, body) or (
            self.malformed_reply_rate > 0
            and selects(float(self.malformed_reply_rate), index, custom_id, body)
        )


@dataclass
class Stats:
    """Thread-safe counters of what the chat endpoint saw and answered."""

    chat_requests: int = 0
    chat_ok: int = 0
    in_flight: int = 0
    max_in_flight: int = 0
    status_counts: Counter = field(default_factory=Counter)  # HTTP status -> count
    code_counts: Counter = field(default_factory=Counter)  # business code -> count
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def chat_429s(self) -> int:
        """How many chat requests were answered 429."""
        return self.status_counts[429]

    def enter(self) -> tuple[int, int]:
        """Count a chat request arriving; return (its number, requests now in flight)."""
        with self.lock:
            self.chat_requests += 1
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
            return self.chat_requests, self.in_flight

    def leave(self, status: int, code: str | None) -> None:
        """Count a chat request answered."""
        with self.lock:
            self.in_flight -= 1
            self.status_counts[status] += 1
            if code:
                self.code_counts[code] += 1
            if status == 200:
                self.chat_ok += 1


@dataclass(frozen=True)
class RecordedRequest:
    """One request as the emulator received it (path relative to the API prefix)."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]  # without Authorization
    authorization: str | None
    body: bytes


@dataclass
class StoredFile:
    """A file held by the emulator."""

    id: str
    filename: str
    purpose: str
    data: bytes
    created_at: int  # seconds, as FileObject has it

    def to_json(self) -> dict:
        """The FileObject wire shape."""
        return {
            "id": self.id,
            "object": "file",
            "bytes": len(self.data),
            "created_at": self.created_at,
            "filename": self.filename,
            "purpose": self.purpose,
        }


class ApiError(Exception):
    """An error answer: HTTP status plus a Zhipu business code."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


@dataclass
class Batch:
    """A batch held by the emulator."""

    id: str
    input_file_id: str
    lines: list[str]
    created_at: int  # milliseconds
    metadata: dict | None = None
    endpoint: str = "/v4/chat/completions"
    completion_window: str | None = None
    auto_delete: bool = True
    status: str = "validating"
    polls: int = 0
    output_file_id: str = ""
    error_file_id: str = ""
    counts: dict | None = None
    errors: list[dict] = field(default_factory=list)
    stamps: dict[str, int] = field(default_factory=dict)  # "<status>_at" -> ms

    def to_json(self) -> dict:
        """The Batch wire shape: ms timestamps, "" file ids, null counts while validating."""
        stamps = ("in_progress", "finalizing", "completed", "failed", "expired", "cancelling")
        data = {
            "id": self.id,
            "object": "batch",
            "endpoint": self.endpoint,
            "input_file_id": self.input_file_id,
            "completion_window": self.completion_window,
            "status": self.status,
            "output_file_id": self.output_file_id,
            "error_file_id": self.error_file_id,
            "created_at": self.created_at,
            "expires_at": self.created_at + 7 * 86400 * 1000,
            "request_counts": self.counts or {"total": None, "completed": None, "failed": None},
            "metadata": self.metadata,
            "errors": {"object": "list", "data": self.errors} if self.errors else None,
            "cancelled_at": self.stamps.get("cancelled_at"),
        }
        data.update({f"{s}_at": self.stamps.get(f"{s}_at") for s in stamps})
        return data


class ZhipuEmulator:
    """The emulated service: state, handlers, and the HTTP server around them."""

    def __init__(
        self, model: Callable[[dict], str] | None = None, api_key: str | None = None
    ) -> None:
        self.model = model or default_model
        self.api_key = api_key  # when set, other bearer tokens answer 401
        self.faults = Faults()
        self.stats = Stats()
        self.requests: list[RecordedRequest] = []
        self.files: dict[str, StoredFile] = {}
        self.deleted: dict[str, StoredFile] = {}  # files the client deleted (kept for audits)
        self.batches: dict[str, Batch] = {}
        self.clock: Callable[[], float] = time.time
        self._lock = threading.RLock()
        self._ids = itertools.count(1)
        self._stopping = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.base_url = ""

    # -- lifecycle ---------------------------------------------------------------

    def start(self, port: int = 0) -> ZhipuEmulator:
        """Listen on 127.0.0.1 (an ephemeral port unless one is given) in a daemon thread."""
        handler = type("Handler", (_Handler,), {"emulator": self})
        self._server = ThreadingHTTPServer(("127.0.0.1", port), handler)
        self._server.daemon_threads = True
        self._stopping.clear()
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        self.base_url = f"http://127.0.0.1:{self._server.server_address[1]}{PREFIX}"
        return self

    def stop(self) -> None:
        """Stop serving; wake any handler stalled by ``chat_hang``."""
        self._stopping.set()
        if self._server:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> ZhipuEmulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- helpers -------------------------------------------------------------------

    def now_ms(self) -> int:
        """The emulator's clock in milliseconds."""
        return int(self.clock() * 1000)

    def new_id(self, kind: str) -> str:
        """A fresh id shaped like the real ones."""
        n = next(self._ids)
        if kind == "batch":
            return f"batch_{1793623747699552256 + n}"
        return f"{int(self.clock())}_{uuid.uuid4().hex[:24]}"

    def store_file(self, filename: str, purpose: str, data: bytes) -> StoredFile:
        """Keep a file and return it."""
        with self._lock:
            stored = StoredFile(self.new_id("file"), filename, purpose, data, int(self.clock()))
            self.files[stored.id] = stored
            return stored

    def wait(self, seconds: float) -> None:
        """Sleep, but wake early when the emulator stops."""
        if seconds > 0:
            self._stopping.wait(seconds)

    def record(self, request: RecordedRequest) -> None:
        """Append to the request log."""
        with self._lock:
            self.requests.append(request)

    # -- routing ---------------------------------------------------------------------

    def dispatch(self, method: str, path: str, query: dict, headers: Any, body: bytes) -> tuple:
        """Route one request; return (status, payload, content type)."""
        if self.faults.account_error:
            raise ApiError(*self.faults.account_error)
        routes: list[tuple[str, str, Callable[..., Any]]] = [
            ("POST", r"/files", lambda: self.upload(headers, body)),
            ("GET", r"/files/(?P<id>[^/]+)/content", self.file_content),
            ("DELETE", r"/files/(?P<id>[^/]+)", self.delete_file),
            ("POST", r"/batches", lambda: self.create_batch(_json(body))),
            ("GET", r"/batches", lambda: self.list_batches(query)),
            ("GET", r"/batches/(?P<id>[^/]+)", self.poll_batch),
            ("POST", r"/batches/(?P<id>[^/]+)/cancel", self.cancel_batch),
            ("POST", r"/chat/completions", lambda: self.chat(_json(body))),
            ("POST", r"/embeddings", lambda: self.embeddings(_json(body))),
        ]
        for verb, pattern, handler in routes:
            match = re.fullmatch(pattern, path)
            if verb == method and match:
                result = handler(**match.groupdict())
                if isinstance(result, bytes):
                    return 200, result, "application/octet-stream"
                return 200, result, "application/json"
        raise ApiError(404, "1222", f"no route for {method} {path}")

    # -- files -------------------------------------------------------------------------

    def upload(self, headers: Any, body: bytes) -> dict:
        """POST /files: multipart with ``purpose`` and ``file``."""
        limit = self.faults.upload_max_bytes
        fields = parse_multipart(body, headers.get("Content-Type", ""))
        if "file" not in fields:
            raise ApiError(400, "1213", "missing field: file")
        filename, data = fields["file"]
        if limit is not None and len(data) > limit:
            raise ApiError(435, "1210", f"file is {len(data)} bytes, over {limit}")
        if self.faults.upload_refusal:
            raise ApiError(*self.faults.upload_refusal)
        purpose = fields.get("purpose", (None, b""))[1].decode()
        if purpose == "batch":
            check_custom_ids(data)
        return self.store_file(filename or "upload", purpose, data).to_json()

    def _file(self, file_id: str) -> StoredFile:
        with self._lock:
            if file_id not in self.files:
                raise ApiError(404, "1222", f"file {file_id} not found")
            return self.files[file_id]

    def file_content(self, id: str) -> bytes:
        """GET /files/{id}/content."""
        return self._file(id).data

    def delete_file(self, id: str) -> dict:
        """DELETE /files/{id}."""
        with self._lock:
            self._file(id)
            self.deleted[id] = self.files.pop(id)
        return {"id": id, "object": "file", "deleted": True}

    # -- batches -------------------------------------------------------------------------

    def create_batch(self, params: dict) -> dict:
        """POST /batches: a new batch in ``validating``."""
        stored = self._file(str(params.get("input_file_id") or ""))
        endpoint = params.get("endpoint")
        if endpoint == "/v4/embeddings" and self.faults.embedding_batches_refused:
            raise ApiError(400, "1214", "批处理目前仅支持 /v4/chat/completions")
        if endpoint not in ("/v4/chat/completions", "/v4/embeddings"):
            raise ApiError(400, "1214", f"unsupported endpoint {endpoint!r}")
        with self._lock:
            batch = Batch(
                id=self.new_id("batch"),
                input_file_id=stored.id,
                lines=[ln for ln in stored.data.decode("utf-8", "replace").splitlines() if ln],
                created_at=self.now_ms(),
                metadata=params.get("metadata"),
                endpoint=endpoint,
                completion_window=params.get("completion_window"),
                auto_delete=params.get("auto_delete_input_file", True) is not False,
            )
            self.batches[batch.id] = batch
            return batch.to_json()

    def _batch(self, batch_id: str) -> Batch:
        if batch_id not in self.batches:
            raise ApiError(404, "1222", f"batch {batch_id} not found")
        return self.batches[batch_id]

    def poll_batch(self, id: str) -> dict:
        """GET /batches/{id}: advance the batch one step and return it."""
        with self._lock:
            batch = self._batch(id)
            self._advance(batch)
            return batch.to_json()

    def _advance(self, batch: Batch) -> None:
        """One step of the life cycle, faults included."""
        if batch.status == "validating":
            self._validate(batch)
        elif batch.status == "in_progress":
            batch.polls += 1
            if batch.polls > self.faults.batch_steps:
                if self.faults.batch_expire_half:
                    self._finish(batch, "expired", len(batch.lines) // 2)
                else:
                    self._set(batch, "finalizing")
        elif batch.status == "finalizing":
            self._finish(batch, "completed", len(batch.lines))
        elif batch.status == "cancelling":
            self._finish(batch, "cancelled", 0)

    def _set(self, batch: Batch, status: str) -> None:
        batch.status = status
        batch.stamps[f"{status}_at"] = self.now_ms()

    def _validate(self, batch: Batch) -> None:
        """validating -> in_progress, or -> failed with errors.data."""
        errors = validate_lines(batch.lines)
        if self.faults.batch_fail_validation and not errors:
            errors = [
                {"code": "1214", "line": 1, "message": "无效的请求 (emulated)", "param": None}
            ]
        if errors:
            batch.errors = errors
            batch.counts = {"total": len(batch.lines), "completed": 0, "failed": 0}
            self._set(batch, "failed")
            self._drop_input(batch)
            return
        batch.counts = {"total": len(batch.lines), "completed": 0, "failed": 0}
        batch.polls = 1  # this poll is the first that answers in_progress
        self._set(batch, "in_progress")

    def _finish(self, batch: Batch, status: str, answered: int) -> None:
        """Run the model over the first ``answered`` lines and write the result files."""
        outputs, failures = [], []
        for index, raw in enumerate(batch.lines[:answered], start=1):
            line, ok = self._answer_line(batch.id, index, json.loads(raw))
            (outputs if ok else failures).append(line)
        if outputs:
            batch.output_file_id = self._result_file(batch, "output", outputs)
        if failures:
            batch.error_file_id = self._result_file(batch, "error", failures)
        batch.counts = {
            "total": len(batch.lines),
            "completed": len(outputs),
            "failed": len(failures),
        }
        self._set(batch, status)
        self._drop_input(batch)

    def _result_file(self, batch: Batch, kind: str, lines: list[str]) -> str:
        data = ("\n".join(lines) + "\n").encode()
        return self.store_file(f"{batch.id}_{kind}.jsonl", "batch", data).id

    def _drop_input(self, batch: Batch) -> None:
        if batch.auto_delete:
            self.files.pop(batch.input_file_id, None)

    def _answer_line(self, batch_id: str, index: int, request: dict) -> tuple[str, bool]:
        """Answer one input line; return (output line, whether it belongs to the output file)."""
        custom_id, body = request["custom_id"], request["body"]
        faults = self.faults
        if selects(faults.batch_error_lines, index, custom_id, body):
            error = ApiError(400, "1301", "系统检测到输入或生成内容可能包含不安全或敏感内容")
            return _error_line(batch_id, custom_id, error), False
        if request.get("url") == "/v4/embeddings":
            return self._embedding_line(batch_id, custom_id, body), True
        sensitive = selects(faults.batch_sensitive_lines, index, custom_id, body)
        try:
            completion = self.complete(body, index, custom_id, sensitive)
        except Exception as exc:  # a broken model is a per-line server error
            return _error_line(batch_id, custom_id, ApiError(500, "500", repr(exc))), False
        completion["request_id"] = custom_id
        response = {"status_code": 200, "body": completion}
        line = {"response": response, "custom_id": custom_id, "id": batch_id}
        return json.dumps(line, ensure_ascii=False), True

    def _embedding_line(self, batch_id: str, custom_id: str, body: dict) -> str:
        reply = embedding_reply(
            body.get("model"), body.get("input") or [], body.get("dimensions") or 2048
        )
        line = {
            "response": {"status_code": 200, "body": reply},
            "custom_id": custom_id,
            "id": batch_id,
        }
        return json.dumps(line)

    def list_batches(self, query: dict) -> dict:
        """GET /batches?after&limit: oldest first (or newest first, as a fault switch says);
        empty data after the last id."""
        limit = max(1, min(self.faults.list_page_max, int(query.get("limit") or 20)))
        with self._lock:
            ordered = list(self.batches.values())
            if self.faults.list_newest_first:
                ordered.reverse()
            ids = [b.id for b in ordered]
            start = ids.index(query["after"]) + 1 if query.get("after") in ids else 0
            if query.get("after") and query["after"] not in ids:
                start = len(ids)
            page = [b.to_json() for b in ordered[start : start + limit]]
        return {
            "object": "list",
            "data": page,
            "first_id": page[0]["id"] if page else None,
            "last_id": page[-1]["id"] if page else None,
            "has_more": start + limit < len(ids),
        }

    def cancel_batch(self, id: str) -> dict:
        """POST /batches/{id}/cancel: -> cancelling (terminal batches refuse)."""
        with self._lock:
            batch = self._batch(id)
            if batch.status in TERMINAL:
                raise ApiError(400, "1214", f"batch {id} is {batch.status}, cannot cancel")
            if batch.status != "cancelling":
                self._set(batch, "cancelling")
            return batch.to_json()

    # -- chat ------------------------------------------------------------------------------

    def chat(self, body: dict) -> dict:
        """POST /chat/completions with every chat fault applied."""
        return self._counted(self._chat, body)

    def _counted(self, answer: Callable[[dict, int, int], dict], body: dict) -> dict:
        """Answer a model request, counted in ``stats`` (number, in flight, status, code)."""
        number, in_flight = self.stats.enter()
        status, code = 200, None
        try:
            return answer(body, number, in_flight)
        except ApiError as exc:
            status, code = exc.status, exc.code
            raise
        except Exception:
            status = 500
            raise
        finally:
            self.stats.leave(status, code)

    def _chat(self, body: dict, number: int, in_flight: int) -> dict:
        faults = self.faults
        if faults.max_concurrency is not None and in_flight > faults.max_concurrency:
            raise ApiError(
                429, "1302", "您当前使用该API的并发数过高，请降低并发，或联系客服增加限额。"
            )
        if faults.chat_balance_exhausted:
            raise ApiError(429, "1113", "您的账户已欠费，请充值后重试。")
        if faults.chat_429_every and number % faults.chat_429_every == 0:
            codes = faults.chat_429_codes or ["1302"]
            code = codes[(number // faults.chat_429_every - 1) % len(codes)]
            raise ApiError(429, code, "当前API请求过多，请稍后重试。")
        if faults.chat_500_every and number % faults.chat_500_every == 0:
            raise ApiError(500, "500", "Internal Error")
        if not isinstance(body.get("model"), str) or not body.get("messages"):
            raise ApiError(400, "1214", "model and messages are required")
        if selects(faults.chat_sensitive_input, number, None, body):
            raise ApiError(400, "1301", "系统检测到输入或生成内容可能包含不安全或敏感内容")
        self.wait(faults.chat_latency)
        self.wait(faults.chat_hang)
        sensitive = selects(faults.chat_sensitive_replies, number, None, body)
        return self.complete(body, number, None, sensitive)

    def complete(self, body: dict, index: int, custom_id: str | None, sensitive: bool) -> dict:
        """A Completion body: the model's answer (or garbage, or a sensitive stop) plus usage."""
        content = self.model(body)
        if self.faults.is_malformed(index, custom_id, body):
            content = GARBAGE_REPLY
        finish = "stop"
        if sensitive:
            content, finish = "", "sensitive"
        prompt = sum(len(str(m.get("content") or "")) for m in body.get("messages") or [])
        return {
            "id": str(8685314030377838818 + index),
            "created": int(self.clock()),
            "model": body.get("model"),
            "choices": [
                {
                    "index": 0,
                    "finish_reason": finish,
                    "message": {"role": "assistant", "content": content},
                }
            ],
            "usage": {
                "prompt_tokens": prompt,
                "completion_tokens": len(content),
                "total_tokens": prompt + len(content),
            },
        }

    # -- embeddings --------------------------------------------------------------------------

    def embeddings(self, body: dict) -> dict:
        """POST /embeddings: deterministic vectors (hashed character n-grams), counted like chat
        requests (``stats``, ``max_concurrency``, ``chat_latency``, ``chat_429_every`` apply)."""
        return self._counted(self._embeddings, body)

    def _embeddings(self, body: dict, number: int, in_flight: int) -> dict:
        faults = self.faults
        if faults.max_concurrency is not None and in_flight > faults.max_concurrency:
            raise ApiError(429, "1302", "您当前使用该API的并发数过高，请降低并发。")
        if faults.chat_429_every and number % faults.chat_429_every == 0:
            raise ApiError(429, "1302", "当前API请求过多，请稍后重试。")
        texts = body.get("input")
        texts = [texts] if isinstance(texts, str) else texts
        dims = body.get("dimensions") or 2048
        if not texts or len(texts) > 64 or not all(isinstance(t, str) and t for t in texts):
            raise ApiError(400, "1214", "input: 1 to 64 non-empty strings")
        if not isinstance(dims, int) or not 256 <= dims <= 2048:
            raise ApiError(400, "1214", "dimensions must be 256 to 2048")
        self.wait(faults.chat_latency)
        return embedding_reply(body.get("model"), texts, dims)


def embedding_reply(model: str | None, texts: list[str], dimensions: int) -> dict:
    """The body of an embeddings answer: one hashed vector per text, and usage."""
    data = [
        {"object": "embedding", "index": i, "embedding": hashed_embedding(t, dimensions)}
        for i, t in enumerate(texts)
    ]
    tokens = sum(len(t) for t in texts)
    usage = {"prompt_tokens": tokens, "completion_tokens": 0, "total_tokens": tokens}
    return {"object": "list", "data": data, "model": model, "usage": usage}


def hashed_embedding(text: str, dimensions: int) -> list[float]:
    """A stand-in embedding: character 1- and 2-grams hashed into signed buckets, unit length."""
    vector = [0.0] * dimensions
    grams = list(text) + [text[i : i + 2] for i in range(len(text) - 1)]
    for gram in grams:
        h = zlib.crc32(gram.encode())
        vector[h % dimensions] += 1.0 if h & 0x80000000 else -1.0
    norm = sum(x * x for x in vector) ** 0.5 or 1.0
    return [x / norm for x in vector]


MIN_CUSTOM_ID = 6  # the service refuses, at upload, a file with a shorter custom_id


def check_custom_ids(data: bytes) -> None:
    """Refuse a batch file whose custom_ids are shorter than the service accepts (HTTP 400,
    code 1210, as it answers)."""
    for raw in data.decode("utf-8", "replace").split("\n"):
        try:
            custom_id = json.loads(raw).get("custom_id") if raw.strip() else None
        except (ValueError, AttributeError):
            continue  # malformed lines fail validation later, as on the service
        if isinstance(custom_id, str) and len(custom_id) < MIN_CUSTOM_ID:
            raise ApiError(
                400, "1210", f"custom_id 长度不能少于 {MIN_CUSTOM_ID} 个字符：{custom_id}"
            )


def validate_lines(lines: list[str]) -> list[dict]:
    """Check a batch input: JSON objects, unique custom_ids, one model. Return errors.data."""
    errors: list[dict] = []
    seen: set[str] = set()
    models: set[str] = set()

    def fail(line: int, code: str, message: str, param: str | None = None) -> None:
        errors.append({"code": code, "line": line, "message": message, "param": param})

    if not lines:
        fail(0, "1214", "the input file is empty")
    for number, raw in enumerate(lines, start=1):
        try:
            request = json.loads(raw)
        except ValueError:
            request = None
        if not isinstance(request, dict) or not isinstance(request.get("body"), dict):
            fail(number, "1214", "the line is not a JSON request object")
            continue
        custom_id = request.get("custom_id")
        if not isinstance(custom_id, str) or not custom_id:
            fail(number, "1213", "custom_id is missing", "custom_id")
        elif custom_id in seen:
            fail(number, "1214", f"custom_id {custom_id} is duplicated", "custom_id")
        else:
            seen.add(custom_id)
        models.add(str(request["body"].get("model")))
        if len(models) > 1:
            fail(number, "1214", "a batch file may use only one model", "model")
            models = {next(iter(models))}
    return errors


def _error_line(batch_id: str, custom_id: str, error: ApiError) -> str:
    """An error-file line (format guessed, see the reference, section 5)."""
    body = {"error": {"code": error.code, "message": error.message}}
    line = {"response": {"status_code": error.status, "body": body}, "custom_id": custom_id}
    return json.dumps({**line, "id": batch_id}, ensure_ascii=False)


def _json(body: bytes) -> dict:
    """Decode a JSON request body or answer 400 code 1210."""
    try:
        data = json.loads(body or b"{}")
    except ValueError:
        raise ApiError(400, "1210", "the request body is not JSON") from None
    if not isinstance(data, dict):
        raise ApiError(400, "1210", "the request body is not a JSON object")
    return data


def parse_multipart(body: bytes, content_type: str) -> dict[str, tuple[str | None, bytes]]:
    """Split a multipart/form-data body into {name: (filename, data)}."""
    match = re.search(r'boundary="?([^";]+)"?', content_type)
    if not match:
        raise ApiError(400, "1210", "expected multipart/form-data")
    fields: dict[str, tuple[str | None, bytes]] = {}
    for part in body.split(b"--" + match.group(1).encode())[1:]:
        if part.startswith(b"--"):
            break
        head, _, data = part.removeprefix(b"\r\n").partition(b"\r\n\r\n")
        disposition = head.decode("utf-8", "replace")
        name = re.search(r'\bname="([^"]*)"', disposition)
        filename = re.search(r'\bfilename="([^"]*)"', disposition)
        if name:
            data = data.removesuffix(b"\r\n")
            fields[name.group(1)] = (filename.group(1) if filename else None, data)
    return fields


class _Handler(BaseHTTPRequestHandler):
    """Turns HTTP into ``ZhipuEmulator.dispatch`` calls and answers JSON."""

    emulator: ZhipuEmulator
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go in two writes: avoid 40 ms stalls

    def do_GET(self) -> None:  # noqa: N802 - http.server naming
        self._handle()

    def do_POST(self) -> None:  # noqa: N802
        self._handle()

    def do_DELETE(self) -> None:  # noqa: N802
        self._handle()

    def log_message(self, format: str, *args: Any) -> None:
        """Stay quiet."""

    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while size := int(self.rfile.readline().split(b";")[0].strip() or b"0", 16):
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            self.rfile.readline()
            return b"".join(chunks)
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def _handle(self) -> None:
        emu = self.emulator
        url = urlsplit(self.path)
        path = url.path.removeprefix(PREFIX).rstrip("/") or "/"
        query = {k: v[-1] for k, v in parse_qs(url.query).items()}
        body = self._read_body()
        auth = self.headers.get("Authorization")
        headers = {k: v for k, v in self.headers.items() if k.lower() != "authorization"}
        emu.record(RecordedRequest(self.command, path, query, headers, auth, body))
        try:
            self._check_auth(auth)
            status, payload, ctype = emu.dispatch(self.command, path, query, self.headers, body)
        except ApiError as exc:
            error = {"error": {"code": exc.code, "message": exc.message}}
            return self._send(exc.status, error, "application/json")
        except Exception as exc:  # an emulator bug shows up as a 500, not a hang
            error = {"error": {"code": "500", "message": repr(exc)}}
            return self._send(500, error, "application/json")
        self._send(status, payload, ctype)

    def _check_auth(self, auth: str | None) -> None:
        if not auth or not auth.startswith("Bearer "):
            raise ApiError(401, "1001", "Authorization header is missing")
        key = self.emulator.api_key
        if key is not None and auth != f"Bearer {key}":
            raise ApiError(401, "1002", "Authorization token is invalid")

    def _send(self, status: int, payload: Any, content_type: str) -> None:
        data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            if status >= 400:
                self.send_header("x-should-retry", "false")
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the client gave up (e.g. its timeout)


def main() -> None:
    """Run the emulator by hand, to try batch and realtime mode without a key or a network:

    .venv/bin/python -m tests.emulator --port 18765
    """
    import argparse
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from tests.offline_model import answer

    parser = argparse.ArgumentParser(description="本地智谱 API 模拟器 (local Zhipu API emulator)")
    parser.add_argument("--port", type=int, default=18765)
    parser.add_argument("--batch-steps", type=int, default=1, help="每个批处理要轮询几次才完成")
    args = parser.parse_args()
    emulator = ZhipuEmulator(model=answer)
    emulator.faults.batch_steps = args.batch_steps
    emulator.start(args.port)
    print(
        f"智谱 API 模拟器已启动 (emulator running)：ZHIPUAI_BASE_URL={emulator.base_url}",
        flush=True,
    )
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        emulator.stop()


if __name__ == "__main__":
    main()
