"""What Zhipu's HTTP statuses and business codes mean for us, and what to tell the user.

An *account fault* repeats for every request until a person acts (a bad key, an empty balance, a
used-up quota, a missing real-name verification): the run stops at once and nothing is defaulted.
Everything else is either retryable (rate limits, overload, server errors, 1120) or the fault of
one request (1301 sensitive input, a bad parameter). See shared/reference/zhipu-api.md, 2.8.
"""

from __future__ import annotations

import re

THROTTLE_CODES = frozenset({"1302", "1303", "1305"})  # rate limit / frequency / overload
BUSY_MODEL_CODE = "1312"  # this model is busy: back off (the message may name another model)
TRANSIENT_ACCOUNT_CODES = frozenset({"1120"})  # "无法成功访问您的账户，请稍后重试"
AUTH_CODES = frozenset({"1000", "1001", "1002", "1003", "1004"})
BALANCE_CODE = "1113"
ACCOUNT_STATE_CODES = frozenset({"1110", "1111", "1112", "1121"})  # inactive, missing, locked
QUOTA_CODES = frozenset({"1304", "1308", "1310"})  # daily / usage / weekly-monthly caps
PERMISSION_CODES = frozenset({"1220"})  # no permission (an unverified account lands here)
PERMISSION_STATUS = 434
_RESET_TIME = re.compile(r"\d{4}-\d{1,2}-\d{1,2}[ T]\d{1,2}:\d{2}(?::\d{2})?")


def is_account_fault(status: int | None, code: str | None) -> bool:
    """Whether every further request of this account will fail the same way."""
    return (
        status == 401
        or status == PERMISSION_STATUS
        or code in AUTH_CODES
        or code == BALANCE_CODE
        or code in ACCOUNT_STATE_CODES
        or code in QUOTA_CODES
        or code in PERMISSION_CODES
    )


def reset_time(message: str) -> str | None:
    """The reset time a quota message names (``…将在 2026-12-03 00:00:00 重置``), if any."""
    found = _RESET_TIME.search(message or "")
    return found.group(0) if found else None


def advice(status: int | None, code: str | None, message: str) -> str:
    """One line in Chinese that says what the user should do about an account fault."""
    if status == 401 or code in AUTH_CODES:
        return "智谱 API Key 无效或已过期：请检查 .env 中的 ZHIPUAI_API_KEY 后重新运行"
    if code == BALANCE_CODE:
        return "智谱账户余额不足：请充值后重新运行，已得到的结果会保留"
    if code in ACCOUNT_STATE_CODES:
        return "智谱账户不可用（未激活、不存在或被锁定）：请登录智谱开放平台查看账户状态"
    if code in QUOTA_CODES:
        when = reset_time(message)
        return (
            f"智谱 API 调用额度已用完，将在 {when} 重置：届时重新运行即可继续"
            if when
            else "智谱 API 调用额度已用完：请等额度重置（或在控制台提高额度）后重新运行"
        )
    if status == PERMISSION_STATUS or code in PERMISSION_CODES:
        return (
            "没有调用该 API 的权限：若账户尚未完成实名认证，请在智谱开放平台的用户中心完成实名认证"
            "（Batch API 需要实名认证）后重新运行"
        )
    return "智谱账户出错：请按服务器消息处理后重新运行"


def busy_advice(message: str) -> str:
    """What to say when the model stays busy (1312): wait, or use the model the message names."""
    other = re.search(r"(glm-[\w.-]+)", message or "", re.I)
    suggestion = f"，或在 .env 中把 LLM_MODEL 换成 {other.group(1)}" if other else ""
    return f"模型当前繁忙（1312）：请稍后重新运行{suggestion}"
