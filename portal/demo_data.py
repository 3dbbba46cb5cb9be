"""What the demo seed commands of every app share: numbers and names that
vary from one record to the next yet come out the same on every run, so
that ``make demo`` sets up the same portal each time and a screenshot or a
test can count on it."""

from __future__ import annotations

import zlib

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高郑梁谢宋唐许韩冯邓曹彭曾萧田董潘袁蔡蒋余于杜叶程魏苏吕丁沈"
GIVEN_NAMES = (
    "秀英",
    "桂英",
    "建华",
    "丽华",
    "晓燕",
    "海燕",
    "志强",
    "建军",
    "国华",
    "玉兰",
    "美玲",
    "春燕",
    "伟",
    "静",
    "敏",
    "磊",
    "洁",
    "勇",
    "艳",
    "军",
    "婷",
    "杰",
    "娟",
    "涛",
    "明",
    "超",
    "秀兰",
    "霞",
    "平",
    "刚",
    "桂兰",
    "芳",
    "佳怡",
    "思远",
    "雨欣",
    "子涵",
    "晨",
    "慧",
    "琳",
    "瑶",
)


def spread(key: str, salt: str, low: int, high: int) -> int:
    """A number in [low, high] fixed by ``key`` and ``salt``: varied, yet the
    same on every run, whatever else a seed command does."""
    return low + zlib.crc32(f"{salt}:{key}".encode()) % (high - low + 1)


def person_name(key: str) -> str:
    """A common Chinese name fixed by ``key``."""
    surname = SURNAMES[spread(key, "surname", 0, len(SURNAMES) - 1)]
    return surname + GIVEN_NAMES[spread(key, "given", 0, len(GIVEN_NAMES) - 1)]


def mobile_number(key: str) -> str:
    """A mobile number fixed by ``key`` (139 numbers, as in the examples of
    the forms)."""
    return f"139{spread(key, 'mobile', 0, 99_999_999):08d}"
