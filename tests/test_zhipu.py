"""The Zhipu boundary, driven through the real SDK against the local emulator."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from graph.llm.zhipu import (
    BatchInfo,
    ZhipuClient,
    ZhipuError,
    client_from_settings,
    parse_result_line,
    to_datetime,
)
from tests.conftest import TEST_API_KEY
from tests.emulator import GARBAGE_REPLY, ZhipuEmulator

API_KEY = TEST_API_KEY
TERMINAL = {"completed", "failed", "expired", "cancelled"}


@pytest.fixture
def emulator() -> Iterator[ZhipuEmulator]:
    """A running emulator that answers with a small echo model."""
    with ZhipuEmulator(
        model=lambda body: json.dumps({"echo": body["messages"][0]["content"]})
    ) as emu:
        yield emu


@pytest.fixture
def client(emulator: ZhipuEmulator) -> ZhipuClient:
    """A client pointed at the emulator, with a short timeout."""
    return ZhipuClient(API_KEY, emulator.base_url, timeout=5.0)


def request_line(custom_id: str, text: str = "你好", model: str = "glm-4-flash") -> dict:
    """One batch input request."""
    body = {"model": model, "messages": [{"role": "user", "content": text}], "temperature": 0.1}
    return {"custom_id": custom_id, "method": "POST", "url": "/v4/chat/completions", "body": body}


def jsonl(lines: list[dict]) -> bytes:
    """Encode requests as a JSONL file."""
    return "".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines).encode()


def submit(client: ZhipuClient, count: int = 4, metadata: dict | None = None) -> BatchInfo:
    """Upload ``count`` requests task-1..task-N and create a batch over them."""
    data = jsonl([request_line(f"task-{i}", f"问题{i}") for i in range(1, count + 1)])
    file_id = client.upload_batch_file("tasks.jsonl", data)
    return client.create_batch(file_id, metadata or {"novel": "7"})


def poll_to_end(client: ZhipuClient, batch_id: str, limit: int = 20) -> BatchInfo:
    """Poll a batch until it reaches a terminal status."""
    for _ in range(limit):
        info = client.retrieve_batch(batch_id)
        if info.status in TERMINAL:
            return info
    raise AssertionError(f"batch {batch_id} never finished")


def lines_of(client: ZhipuClient, file_id: str | None) -> list:
    """Download a result file and parse each line."""
    assert file_id is not None
    return [parse_result_line(ln) for ln in client.download_file(file_id).decode().splitlines()]


def raised(fn, *args, **kwargs) -> ZhipuError:
    """Call ``fn`` and return the ZhipuError it raises."""
    with pytest.raises(ZhipuError) as caught:
        fn(*args, **kwargs)
    return caught.value


# -- batches -------------------------------------------------------------------------------


def test_it_runs_a_batch_from_upload_to_parsed_output(client, emulator):
    created = submit(client, 3)
    assert created.status == "validating"
    assert [client.retrieve_batch(created.id).status for _ in range(3)] == [
        "in_progress",
        "finalizing",
        "completed",
    ]
    done = client.retrieve_batch(created.id)
    assert (done.total, done.completed, done.failed) == (3, 3, 0)
    assert done.error_file_id is None
    assert done.metadata == {"novel": "7"}
    results = lines_of(client, done.output_file_id)
    assert [r.custom_id for r in results] == ["task-1", "task-2", "task-3"]
    assert all(r.ok and r.finish_reason == "stop" for r in results)
    assert json.loads(results[1].content) == {"echo": "问题2"}
    assert results[0].prompt_tokens == 3 and results[0].completion_tokens > 0


def test_it_sends_the_key_as_bearer_and_asks_the_server_to_delete_the_input(client, emulator):
    created = submit(client, 1)
    create_call = next(r for r in emulator.requests if r.path == "/batches")
    sent = json.loads(create_call.body)
    assert sent["endpoint"] == "/v4/chat/completions"
    assert sent["auto_delete_input_file"] is True
    assert {r.authorization for r in emulator.requests} == {f"Bearer {API_KEY}"}
    assert all("Authorization" not in r.headers for r in emulator.requests)
    upload = emulator.requests[0]
    assert b'filename="tasks.jsonl"' in upload.body and b"application/jsonl" in upload.body
    poll_to_end(client, created.id)
    assert created.input_file_id not in emulator.files


def test_it_waits_in_progress_for_the_configured_number_of_polls(client, emulator):
    emulator.faults.batch_steps = 3
    created = submit(client, 1)
    statuses = [client.retrieve_batch(created.id).status for _ in range(5)]
    assert statuses == ["in_progress"] * 3 + ["finalizing", "completed"]


def test_it_puts_failed_lines_in_the_error_file(client, emulator):
    emulator.faults.batch_error_lines = {"task-2"}
    done = poll_to_end(client, submit(client, 3).id)
    assert (done.completed, done.failed) == (2, 1)
    [error] = lines_of(client, done.error_file_id)
    assert (error.custom_id, error.ok, error.error_code) == ("task-2", False, "1301")
    assert [r.custom_id for r in lines_of(client, done.output_file_id)] == ["task-1", "task-3"]


def test_it_can_fail_every_nth_line(client, emulator):
    emulator.faults.batch_error_lines = 2
    done = poll_to_end(client, submit(client, 4).id)
    assert [r.custom_id for r in lines_of(client, done.error_file_id)] == ["task-2", "task-4"]


def test_it_reports_an_expired_batch_with_half_the_answers(client, emulator):
    emulator.faults.batch_expire_half = True
    done = poll_to_end(client, submit(client, 4).id)
    assert done.status == "expired" and done.expired_at is not None
    assert [r.custom_id for r in lines_of(client, done.output_file_id)] == ["task-1", "task-2"]
    assert done.error_file_id is None


def test_it_reports_failed_validation_with_line_errors(client, emulator):
    emulator.faults.batch_fail_validation = True
    done = poll_to_end(client, submit(client, 2).id)
    assert done.status == "failed"
    assert done.output_file_id is None and done.error_file_id is None
    assert done.errors and done.errors[0].startswith("line 1: 1214")


@pytest.mark.parametrize(
    ("bad_line", "expected"),
    [
        (json.dumps(request_line("task-2", model="glm-4-air")), "only one model"),
        (json.dumps(request_line("task-1")), "duplicated"),
        (json.dumps({**request_line("x"), "custom_id": None}), "custom_id is missing"),
        ("{not json", "not a JSON request"),
    ],
)
def test_it_fails_validation_of_a_bad_input_file(client, bad_line, expected):
    data = jsonl([request_line("task-1")]) + bad_line.encode() + b"\n"
    created = client.create_batch(client.upload_batch_file("bad.jsonl", data))
    done = poll_to_end(client, created.id)
    assert done.status == "failed"
    assert done.errors[0].startswith("line 2: ") and expected in done.errors[0]


def test_it_cancels_a_batch(client):
    created = submit(client, 2)
    client.retrieve_batch(created.id)
    assert client.cancel_batch(created.id).status == "cancelling"
    done = client.retrieve_batch(created.id)
    assert done.status == "cancelled" and done.cancelled_at is not None
    assert done.output_file_id is None and done.completed == 0


def test_it_refuses_to_cancel_a_finished_batch_permanently(client):
    created = submit(client, 1)
    poll_to_end(client, created.id)
    error = raised(client.cancel_batch, created.id)
    assert error.status == 400 and error.permanent


def test_it_lists_batches_across_pages_and_stops(client, emulator):
    emulator.faults.list_page_max = 2
    ids = [submit(client, 1).id for _ in range(5)]
    listed = list(client.iter_batches(page_size=2))
    assert [b.id for b in listed] == ids
    pages = [r for r in emulator.requests if r.path == "/batches" and r.method == "GET"]
    assert len(pages) == 3


def test_it_lists_until_an_empty_page_when_has_more_is_absent(client, emulator):
    emulator.faults.list_page_max = 2
    ids = [submit(client, 1).id for _ in range(4)]
    original = emulator.list_batches
    emulator.list_batches = lambda query: {
        k: v for k, v in original(query).items() if k != "has_more"
    }
    assert [b.id for b in client.iter_batches(page_size=2)] == ids
    pages = [r for r in emulator.requests if r.path == "/batches" and r.method == "GET"]
    assert len(pages) == 3 and pages[-1].query["after"] == ids[-1]


@pytest.mark.parametrize("newest_first", [False, True])
def test_it_finds_a_batch_by_its_metadata_whatever_the_listing_order(
    client, emulator, newest_first
):
    emulator.faults.list_page_max = 2
    emulator.faults.list_newest_first = newest_first
    ids = [submit(client, 1, metadata={"job": str(n)}).id for n in range(5)]
    found, complete = client.find_batch("job", "1")
    assert found.id == ids[1] and complete
    assert client.find_batch("job", "99") == (None, True)
    assert client.find_batch("job", "4", max_batches=2) == (None, False) or newest_first


def test_two_pollers_at_once_finish_a_batch_once(client, emulator):
    created = submit(client, 3)
    finals: list[BatchInfo] = []

    def poll() -> None:
        finals.append(poll_to_end(client, created.id))

    threads = [threading.Thread(target=poll) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert {f.output_file_id for f in finals} == {emulator.batches[created.id].output_file_id}
    assert len(emulator.files) == 1  # the output; the input was deleted


@pytest.mark.parametrize("payload", [b"<html>busy</html>", {"unexpected": True}])
def test_it_turns_a_garbled_batch_response_into_a_retryable_error(client, emulator, payload):
    emulator.dispatch = lambda *args: (200, payload, "application/json")
    error = raised(client.retrieve_batch, "batch_1")
    assert error.status == 200 and not error.permanent


def test_it_turns_empty_file_ids_and_null_counts_into_none(client):
    created = submit(client, 1)
    assert created.output_file_id is None and created.error_file_id is None
    assert (created.total, created.completed, created.failed) == (None, None, None)


def test_it_reads_millisecond_timestamps_as_utc(client, emulator):
    emulator.clock = lambda: 1716468200.026
    created = submit(client, 1)
    assert created.created_at == datetime(2024, 5, 23, 12, 43, 20, 26000, tzinfo=UTC)
    assert emulator.batches[created.id].created_at == 1716468200026


def test_it_reads_small_timestamps_as_seconds():
    assert to_datetime(1716468200) == datetime(2024, 5, 23, 12, 43, 20, tzinfo=UTC)
    assert to_datetime(None) is None and to_datetime(0) is None


def test_it_downloads_bytes_and_deletes_files(client, emulator):
    data = "中文\n".encode()
    file_id = client.upload_batch_file("x.jsonl", data)
    assert client.download_file(file_id) == data
    client.delete_file(file_id)
    error = raised(client.download_file, file_id)
    assert error.status == 404 and error.permanent


def test_it_flags_an_oversize_upload_as_too_large(client, emulator):
    emulator.faults.upload_max_bytes = 10
    error = raised(client.upload_batch_file, "big.jsonl", b"x" * 11)
    assert error.status == 435 and error.too_large and not error.permanent


def test_it_answers_sensitive_and_malformed_batch_lines(client, emulator):
    emulator.faults.batch_sensitive_lines = {"task-1"}
    emulator.faults.malformed_replies = {"task-2"}
    results = lines_of(client, poll_to_end(client, submit(client, 3).id).output_file_id)
    assert (results[0].ok, results[0].error_code) == (False, "sensitive")
    assert results[1].ok and results[1].content == GARBAGE_REPLY
    assert results[2].ok


def test_it_makes_malformed_replies_at_a_repeatable_rate(client, emulator):
    emulator.faults.malformed_reply_rate = 0.5
    first = lines_of(client, poll_to_end(client, submit(client, 20).id).output_file_id)
    again = lines_of(client, poll_to_end(client, submit(client, 20).id).output_file_id)
    garbled = [r.custom_id for r in first if r.content == GARBAGE_REPLY]
    assert 0 < len(garbled) < 20
    assert garbled == [r.custom_id for r in again if r.content == GARBAGE_REPLY]


# -- chat ------------------------------------------------------------------------------------


def chat_body(text: str = "师父是谁？") -> dict:
    """A chat request body as the pipeline stores it."""
    return {
        "model": "glm-4-flash",
        "messages": [{"role": "user", "content": text}],
        "temperature": 0.1,
        "max_tokens": 200,
    }


def test_it_returns_chat_content_and_usage(client, emulator):
    body = chat_body()
    reply = client.chat(body)
    assert json.loads(reply.content) == {"echo": "师父是谁？"}
    assert reply.finish_reason == "stop"
    assert (reply.prompt_tokens, reply.completion_tokens) == (5, len(reply.content))
    assert body == chat_body()
    sent = json.loads(emulator.requests[-1].body)
    assert (sent["model"], sent["max_tokens"], sent["temperature"]) == ("glm-4-flash", 200, 0.1)


def test_it_passes_unknown_body_keys_through(client, emulator):
    client.chat({**chat_body(), "custom_flag": "yes"})
    assert json.loads(emulator.requests[-1].body)["custom_flag"] == "yes"


@pytest.mark.parametrize("code", ["1302", "1305"])
def test_it_turns_a_429_into_a_retryable_error(client, emulator, code):
    emulator.faults.chat_429_every = 1
    emulator.faults.chat_429_codes = [code]
    error = raised(client.chat, chat_body())
    assert (error.status, error.code, error.permanent, error.fatal) == (
        429,
        code,
        False,
        False,
    )
    assert emulator.stats.chat_requests == 1  # SDK retries are off


def test_it_turns_1113_into_a_fatal_error(client, emulator):
    emulator.faults.chat_balance_exhausted = True
    error = raised(client.chat, chat_body())
    assert error.status == 429 and error.code == "1113" and error.fatal
    assert "余额不足" in error.user_line


def test_it_treats_1301_as_permanent(client, emulator):
    emulator.faults.chat_sensitive_input = lambda custom_id, body: "敏感" in str(body)
    error = raised(client.chat, chat_body("敏感内容"))
    assert (error.status, error.code, error.permanent) == (400, "1301", True)
    assert client.chat(chat_body("平常内容")).content


def test_it_treats_a_500_as_retryable(client, emulator):
    emulator.faults.chat_500_every = 2
    client.chat(chat_body())
    error = raised(client.chat, chat_body())
    assert error.status == 500 and not error.permanent


def test_it_refuses_to_build_a_client_without_a_key(emulator):
    with pytest.raises(ValueError, match="ZHIPUAI_API_KEY"):
        ZhipuClient("", emulator.base_url)


def test_it_builds_a_client_from_settings(settings, emulator):
    settings.ZHIPUAI_API_KEY = API_KEY
    settings.ZHIPUAI_BASE_URL = emulator.base_url
    settings.ZHIPUAI_TIMEOUT = 5
    assert client_from_settings().chat(chat_body()).content


def test_it_treats_a_bad_key_as_fatal_for_the_run(emulator):
    emulator.api_key = "someone.else"
    error = raised(ZhipuClient(API_KEY, emulator.base_url).chat, chat_body())
    assert error.status == 401 and error.fatal and not error.permanent
    assert "ZHIPUAI_API_KEY" in error.user_line


def test_it_times_out_quickly_without_retrying(emulator):
    emulator.faults.chat_hang = 5.0
    error = raised(ZhipuClient(API_KEY, emulator.base_url, timeout=0.3).chat, chat_body())
    assert error.status is None and not error.permanent and "timeout" in error.message
    assert emulator.stats.chat_requests == 1


def test_it_honours_a_per_call_timeout(client, emulator):
    emulator.faults.chat_hang = 3.0  # under the client's 5 s: only the per-call 0.3 s times out
    error = raised(client.chat, chat_body(), timeout=0.3)  # the client's own timeout is longer
    assert error.status is None and "timeout" in error.message


def test_it_treats_a_refused_connection_as_retryable():
    emulator = ZhipuEmulator().start()
    base_url = emulator.base_url
    emulator.stop()
    error = raised(ZhipuClient(API_KEY, base_url, timeout=1.0).chat, chat_body())
    assert error.status is None and not error.permanent


def test_it_rejects_a_sensitive_reply_permanently(client, emulator):
    emulator.faults.chat_sensitive_replies = 1
    error = raised(client.chat, chat_body())
    assert (error.code, error.permanent) == ("sensitive", True)


def test_it_returns_a_malformed_reply_as_is(client, emulator):
    emulator.faults.malformed_replies = lambda custom_id, body: True
    assert client.chat(chat_body()).content == GARBAGE_REPLY


def test_it_never_puts_the_key_in_an_error_message(client, emulator):
    errors = [raised(client.download_file, API_KEY)]
    emulator.faults.chat_balance_exhausted = True
    errors.append(raised(client.chat, chat_body(API_KEY)))
    emulator.api_key = "someone.else"
    errors.append(raised(client.retrieve_batch, API_KEY))
    for error in errors:
        assert API_KEY not in error.message and API_KEY.split(".")[1] not in str(error)
    assert "***" in errors[0].message


def test_it_rejects_chat_requests_beyond_the_concurrency_limit(client, emulator):
    emulator.faults.max_concurrency = 2
    emulator.faults.chat_latency = 0.2
    outcomes: list[str] = []

    def ask() -> None:
        try:
            client.chat(chat_body())
            outcomes.append("ok")
        except ZhipuError as error:
            outcomes.append(error.code or "")

    threads = [threading.Thread(target=ask) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["1302", "1302", "ok", "ok"]
    assert emulator.stats.max_in_flight >= 3 and emulator.stats.chat_429s == 2
    assert emulator.stats.code_counts["1302"] == 2 and emulator.stats.in_flight == 0


# -- result lines ----------------------------------------------------------------------------


def test_it_parses_a_success_line():
    body = {
        "created": 1716468200,
        "usage": {"prompt_tokens": 12, "completion_tokens": 7, "total_tokens": 19},
        "model": "glm-4",
        "id": "8685314030377838818",
        "choices": [
            {"finish_reason": "stop", "index": 0, "message": {"role": "assistant", "content": "{}"}}
        ],
        "request_id": "request-1",
    }
    line = {"response": {"status_code": 200, "body": body}, "custom_id": "r1", "id": "batch_1"}
    result = parse_result_line(json.dumps(line))
    assert (result.custom_id, result.ok, result.content, result.finish_reason) == (
        "r1",
        True,
        "{}",
        "stop",
    )
    assert (result.prompt_tokens, result.completion_tokens, result.error_code) == (12, 7, None)


def test_it_parses_an_error_line_in_the_response_body():
    body = {"error": {"code": "1301", "message": "不安全"}}
    line = {"response": {"status_code": 400, "body": body}, "custom_id": "r2", "id": "batch_1"}
    result = parse_result_line(json.dumps(line))
    assert (result.custom_id, result.ok, result.error_code, result.error_message) == (
        "r2",
        False,
        "1301",
        "不安全",
    )


def test_it_parses_a_top_level_error_line():
    line = {"error": {"code": 1234, "message": "网络错误"}, "custom_id": "r3", "response": None}
    result = parse_result_line(json.dumps(line))
    assert (result.custom_id, result.ok, result.error_code) == ("r3", False, "1234")


def test_it_parses_a_sensitive_finish_as_a_failure():
    choice = {"finish_reason": "sensitive", "index": 0, "message": {"content": ""}}
    body = {"choices": [choice], "usage": {"prompt_tokens": 3, "completion_tokens": 0}}
    line = {"response": {"status_code": 200, "body": body}, "custom_id": "r4"}
    result = parse_result_line(json.dumps(line))
    assert (result.ok, result.error_code, result.prompt_tokens) == (False, "sensitive", 3)


@pytest.mark.parametrize("garbage", ["", "not json", "[1, 2]", '{"custom_id": '])
def test_it_parses_garbage_as_a_failure_without_an_id(garbage):
    result = parse_result_line(garbage)
    assert (result.custom_id, result.ok, result.content) == (None, False, None)
    assert "does not parse" in result.error_message


def test_it_fails_a_line_whose_model_hit_a_network_error():
    choice = {"finish_reason": "network_error", "index": 0, "message": {"content": "半"}}
    line = {"response": {"status_code": 200, "body": {"choices": [choice]}}, "custom_id": "r6"}
    result = parse_result_line(json.dumps(line))
    assert (result.ok, result.error_code) == (False, "network_error")


def test_it_fails_a_200_line_without_choices():
    line = {"response": {"status_code": 200, "body": {"choices": []}}, "custom_id": "r5"}
    result = parse_result_line(json.dumps(line))
    assert (result.custom_id, result.ok, result.error_code) == ("r5", False, "empty_reply")


def test_a_file_with_a_custom_id_under_six_characters_is_refused_whole(client, emulator):
    data = jsonl([request_line("t1", "问题")])
    error = raised(client.upload_batch_file, "tasks.jsonl", data)
    assert (error.status, error.code, error.fatal) == (400, "1210", True)
    assert "custom_id" in error.user_line and not emulator.files
