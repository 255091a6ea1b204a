"""What Zhipu's statuses and business codes mean: account faults stop a run, others do not."""

import pytest

from graph.llm import codes


@pytest.mark.parametrize(
    ("status", "code"),
    [(401, "1002"), (429, "1113"), (429, "1304"), (429, "1308"), (429, "1310"), (403, "1220"),
     (434, None), (429, "1112")],
)  # fmt: skip
def test_it_calls_account_wide_faults_fatal(status, code):
    assert codes.is_account_fault(status, code)


@pytest.mark.parametrize(
    ("status", "code"),
    [(429, "1302"), (429, "1305"), (429, "1312"), (429, "1120"), (400, "1301"), (500, None)],
)
def test_it_leaves_other_errors_to_the_request(status, code):
    assert not codes.is_account_fault(status, code)


def test_it_names_the_reset_time_of_a_quota():
    line = codes.advice(
        429, "1308", "已达到 5 小时的使用上限。您的限额将在 2026-12-03 08:00:00 重置。"
    )
    assert "2026-12-03 08:00:00" in line and "重置" in line


def test_it_tells_an_unverified_account_to_verify():
    assert "实名认证" in codes.advice(403, "1220", "无权访问")


def test_it_names_the_model_a_busy_message_suggests():
    line = codes.busy_advice("当前模型访问量过大，请稍后再试，或切换至 glm-4-flash-250414")
    assert "glm-4-flash-250414" in line
