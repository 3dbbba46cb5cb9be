"""Load the demo's reverse evaluation (反向评价): two published rounds,
2026年第二季度 and 2026年第三季度, and the open round 2026年第四季度, in which
about three in five evaluations are in and the demo community (``shequ``)
still has departments left to answer.

The organization department (``zuzhibu``) evaluates the district's own
functional departments "7+3" (communities 0.7, street offices 0.3). Each
department has a standing of its own in each dimension (``STANDINGS``): a
couple burden the communities with meetings, inspections and ledgers and fall
below the threshold into rectification (整改), one of them with its plan
under way; most are in between; a couple are excellent; one is answered by too
few units in the third quarter to show figures (样本不足); some rise or drop
between the rounds, so that changes, trends and flags show.

Everything goes through ``assessments.services`` as the pages and the daily
schedule would: ``round_save``, ``round_open``, ``evaluation_submit`` by an
account of each answering unit, ``round_remind``, ``round_close`` (whose
results are computed after its commit), ``comment_review``,
``round_publish`` and ``rectification_act``. Each step runs with the portal's
clock set to the moment it happened (``_clock``), so that the day a unit
answered (``Participation.answered_on``), the events, the rectification
steps and the inbox notifications all lie inside their round's dates — and
``evaluation_submit``, which refuses answers after a round's last day, takes
the past rounds' answers on days when they were still open.

Answers are reproducible: each comes from a random generator seeded by the
round, the unit and the department (``SEED``). Communities without an
account get one through the accounts import, as seed_orders_demo's do.

A run picks up where an interrupted one stopped (each round moves on from the
state it is in; answers already sent are not sent again); once the open
round's reminder has gone out the demo is complete and a run writes nothing.
Run it after seed_demo (seed_catalog_demo and seed_orders_demo may come
before, as in ``make demo``).
"""

from __future__ import annotations

import random
import tempfile
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from unittest import mock

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from assessments.models import (
    Comment,
    CommentState,
    EvaluationRound,
    Participation,
    Questionnaire,
    Rectification,
    RoundResult,
    RoundState,
)
from assessments.services import (
    comment_review,
    evaluation_submit,
    rectification_act,
    round_close,
    round_open,
    round_publish,
    round_remind,
    round_results_compute,
    round_save,
)
from matching.calendar import is_working_day
from portal.demo_data import person_name, spread
from portal.importers import (
    ACCOUNTS,
    DEPARTMENTS,
    REGIONS,
    ImportFileError,
    import_units_file,
    report_lines,
)
from portal.management.commands.seed_demo import DISTRICT_CODE, write_workbook
from portal.models import Department, DepartmentKind, Region, RegionLevel, Role, User

SEED = 20261001
ORGANIZER_USER = "zuzhibu"
HOME_COMMUNITY_USER = "shequ"  # 天山新村第一居委会
HOME_STREET_USER = "jiedao"  # 长风新村街道
QUESTIONNAIRE_TITLE = "为基层减负反向评价问卷"

DIMENSIONS = ("meetings", "inspections", "ledgers", "responsiveness", "services")

# The open round opened this many days before the first run; answers came in
# on each of those days.
OPEN_DAYS = 8
OPEN_ROUND_LEFT_DAYS = 10


@dataclass(frozen=True)
class RoundSpec:
    key: str
    name: str
    period_start: date
    period_end: date
    opens_on: date
    closes_on: date
    # None: the round stays open.
    published_on: date | None


def round_specs(today: date) -> list[RoundSpec]:
    """The demo's rounds, oldest first. The past rounds keep their quarters'
    dates; the open one opened ``OPEN_DAYS`` before the first run."""
    return [
        RoundSpec(
            "q2",
            "2026年第二季度",
            date(2026, 4, 1),
            date(2026, 6, 30),
            date(2026, 7, 6),
            date(2026, 7, 20),
            date(2026, 7, 28),
        ),
        RoundSpec(
            "q3",
            "2026年第三季度",
            date(2026, 7, 1),
            date(2026, 9, 30),
            date(2026, 10, 12),
            date(2026, 10, 23),
            date(2026, 10, 30),
        ),
        RoundSpec(
            "q4",
            "2026年第四季度",
            date(2026, 10, 1),
            date(2026, 12, 31),
            today - timedelta(days=OPEN_DAYS),
            today + timedelta(days=OPEN_ROUND_LEFT_DAYS),
            None,
        ),
    ]


# How much burden each department takes off the communities rather than adds,
# 0–100 in each of DIMENSIONS, in 2026年第三季度. Departments not listed stand
# between 66 and 84, fixed by their code (_standing).
STANDINGS: dict[str, tuple[int, int, int, int, int]] = {
    # Excellent: few meetings, inspections planned with the streets, no
    # ledgers of their own, there when called.
    "PT-XF": (93, 90, 91, 95, 92),
    "PT-CL": (91, 94, 87, 90, 93),
    "PT-WL": (89, 92, 90, 84, 91),
    # Burdensome: safety inspections every other week with reports and
    # display boards, daily ledgers; below the threshold in both quarters.
    "PT-YJ": (46, 22, 36, 62, 58),
    # Enforcement drives that need community staff along, meetings at short
    # notice, complaints passed on: dropped below the threshold.
    "PT-CG": (38, 42, 56, 48, 62),
    # The home department (bumen, fuzeren): good, but its ledgers weigh.
    "PT-MZ": (76, 80, 55, 86, 88),
    # Statistics: monthly returns in three systems (a ledgers outlier).
    "PT-TJ": (78, 82, 30, 74, 62),
    "PT-SJJ": (72, 80, 52, 70, 72),
    "PT-SCJG": (68, 50, 64, 72, 66),
    # Housing: rectified after the second quarter.
    "PT-FG": (72, 71, 67, 75, 70),
    # Construction: a drop since the second quarter.
    "PT-JW": (66, 58, 64, 70, 68),
    "PT-SWJ": (82, 86, 80, 74, 70),
}
# Where 2026年第二季度 differed more than a few points from the third quarter.
STANDINGS_Q2: dict[str, tuple[int, int, int, int, int]] = {
    "PT-YJ": (52, 30, 40, 60, 56),
    "PT-CG": (60, 58, 64, 60, 66),
    "PT-FG": (56, 50, 45, 58, 60),
    "PT-JW": (80, 78, 77, 82, 78),
    "PT-TJ": (76, 80, 40, 72, 60),
}
# Points 2026年第四季度 has gained so far over the third quarter.
GAINS_Q4 = {"PT-YJ": 10, "PT-CG": 5, "PT-FG": 2, "PT-JW": 4}

# How often a community used a department's services through the catalog.
SERVICE_USE = {
    "PT-MZ": 0.8,
    "PT-WL": 0.7,
    "PT-CL": 0.65,
    "PT-XF": 0.65,
    "PT-WJ": 0.6,
    "PT-SWJ": 0.2,
    "PT-TJ": 0.15,
}
# Why problems stayed unsolved (the options of unsolved_why, by weight).
UNSOLVED_WHY = {
    "PT-CG": (5, 2, 3, 2, 1),
    "PT-YJ": (2, 2, 2, 5, 1),
    "PT-FG": (3, 3, 4, 2, 1),
}
UNSOLVED_WHY_USUAL = (2, 3, 3, 2, 1)

# Rounds in which a department was answered by only this many communities
# and street offices: too few to show figures.
FEW_ANSWERS = {"q3": {"PT-SWJ": (3, 2)}}
# Past rounds: the share of communities that sent nothing at all, and the
# share of departments the others answered (on average).
PAST_COMPLETION = {"q2": (0.09, 0.88), "q3": (0.05, 0.93)}
# The open round: how far each street's communities have got, by street code
# (the home street, 长风新村街道, well ahead; the towns behind).
OPEN_PROGRESS = {
    "310107005000": 0.76,
    "310107014000": 0.66,
    "310107015000": 0.85,
    "310107016000": 0.72,
    "310107017000": 0.58,
    "310107020000": 0.64,
    "310107021000": 0.54,
    "310107022000": 0.62,
    "310107102000": 0.5,
    "310107103000": 0.42,
}
# The demo community has answered this share of its departments so far.
HOME_PROGRESS = 0.4

# Free-text comments (the questionnaire's "suggestions"), by the weakest
# dimension of a department that burdens, and for the others.
COMPLAINTS = {
    "meetings": (
        "一个季度光视频会就开了七八次，很多内容和社区关系不大，希望能合并召开。",
        "会议通知经常当天下午才发，社工只好临时调整走访安排，很被动。",
        "同一项工作既要参加区里的会，又要参加街道的转达会，希望只开一次。",
        "下发的通知要求层层加码，很多表格社区根本没有数据来源。",
        "开会要求书记本人参加，不能派社工代替，书记一周有三个半天在开会。",
        "会议材料会前才发，会上又要求社区当场表态，准备不足。",
    ),
    "inspections": (
        "本季度检查来了四五次，每次都要社工全程陪同，耽误了为居民办事。",
        "检查前要求准备汇报材料和展板，建议以日常工作记录为准，不要另做材料。",
        "突击检查太多，希望能和其他部门统筹，一次检查看完。",
        "对社区搞排名通报，压力很大，但很多指标社区其实说了不算。",
        "同一个问题区里查完市里查，市里查完街道查，整改材料要交三遍。",
        "检查时要求社区出具书面承诺书，责任都压到了居委会。",
    ),
    "ledgers": (
        "台账种类太多，同样的数据要在三个系统里各填一遍，希望打通数据。",
        "要求社区关注、打卡的APP和公众号太多，居民和社工都应付不过来。",
        "每月报表格式经常变，刚适应又要重新整理历史数据。",
        "已经在市里系统报过的数据，还要求用纸质版再报一次。",
        "报表要求每周一上午十点前报送，周末社工也要加班整理。",
        "很多台账只为了迎检留痕，平时没人看，建议清理。",
    ),
    "responsiveness": (
        "吹哨后到场很慢，问题拖了一个多月才解决。",
        "反映的问题总说不归本部门管，希望明确牵头单位，不要来回推。",
        "答复倒是及时，但实际问题还是要社区自己想办法。",
        "热线转来的工单要求社区先处置再上报，社区没有执法权。",
        "联系人经常换，电话打过去不知道找谁。",
        "上报的问题只回复“已收悉”，之后就没有下文了。",
    ),
}
PRAISE = (
    "今年下发的文件明显少了，会议也大多合并到街道例会里，点赞。",
    "吹哨后第二天就来现场，问题当周解决，居民很满意。",
    "点单的培训很实用，讲师提前来社区了解情况，内容贴近居民需要。",
    "检查前都会提前告知，现场看完就走，不要求社区另外准备材料。",
    "送服务上门不用社区签到留痕，真正为社区减了负。",
    "有事打电话都能找到人，答复也很清楚，希望保持。",
    "数据直接从系统里取，不再要求社区填报表，减负效果明显。",
)
SUGGESTIONS = (
    "建议把常用报表做成一张共享表，各部门按需取数。",
    "希望年初就公布全年需要社区配合的检查计划，方便社区安排工作。",
    "建议点单服务多安排在周末或晚上，方便上班族居民参加。",
    "希望部门之间的工作要求先统一口径，再下发给社区。",
    "建议给社区留出固定的“无会日”，让社工能沉下去走访居民。",
)
# One comment in each published round that names the unit that wrote it:
# released with the name taken out. And one about a person by name: withheld.
NAMING = {
    "q2": (
        "PT-FG",
        "我是长征镇建华居委会的书记，今年二季度房管局为老旧小区修缮征询意见，"
        "要求居委会逐户上门签字，我们五个社工跑了整整两周。",
        "今年二季度房管局为老旧小区修缮征询意见，要求居委会逐户上门签字，"
        "社工跑了整整两周。",
    ),
    "q3": (
        "PT-CG",
        "我们是长风新村街道白玉居委会，上个月城管执法队来小区检查了三次，"
        "每次都要我陪同，居委会只有五个人，实在忙不过来。",
        "上个月城管执法队来小区检查了三次，每次都要居委会陪同，"
        "居委会人手少，实在忙不过来。",
    ),
}
PERSONAL = {
    "q2": (
        "PT-YJ",
        "安监科的那位王科长每次来检查都板着脸训人，这种人不适合做基层工作。",
    ),
    "q3": (
        "PT-YJ",
        "检查组里那个姓李的科长态度很差，还当着居民的面批评社工，必须换人。",
    ),
}
# Of the other comments, the share the organization department has released
# so far (the rest wait for review).
RELEASED_SHARE = {"q2": 1.0, "q3": 0.7}

# What departments below the threshold did about it: (days after the round
# was published, the acting account, the action, the plan or note, the plan's
# due date). None as the account: the organization department.
RECTIFICATION_STEPS: dict[tuple[str, str], list[tuple[int, Any, str, str, Any]]] = {
    ("q2", "PT-FG"): [
        (
            8,
            "PT-FG",
            "plan",
            "一、即日起停止要求社区报送《房屋安全隐患排查月报》，改由物业企业在系统中"
            "直接填报；二、老旧小区修缮的居民意见征询委托第三方完成，不再由居委会逐户"
            "上门；三、每季度到社区的检查合并为一次，与街道城运中心联合进行。",
            date(2026, 9, 30),
        ),
        (
            31,
            "PT-FG",
            "progress",
            "月报已停止报送，系统已向全区物业企业开放填报；第三方征询单位已完成招标。",
            None,
        ),
        (
            58,
            "PT-FG",
            "report",
            "三项措施均已落实：社区不再报送月报，修缮征询由第三方完成，第三季度到社区"
            "的检查合并为一次。",
            None,
        ),
        (76, None, "close", "经向街道和社区核实，整改措施已落实。", None),
    ],
    ("q2", "PT-YJ"): [
        (
            13,
            "PT-YJ",
            "plan",
            "一、安全生产和防汛检查由区安委办统筹，每季度到社区不超过一次；二、取消社区"
            "填报的《隐患排查日报》，改为按月汇总；三、应急演练不再要求社区提供照片、"
            "签到表等留痕材料。",
            date(2026, 9, 30),
        ),
        (
            62,
            "PT-YJ",
            "report",
            "已下发通知统筹检查，日报已改为月报，演练留痕要求已取消。",
            None,
        ),
        (80, None, "close", "整改措施已落实，效果待第三季度测评复核。", None),
    ],
    # Below the threshold again: a plan under way.
    ("q3", "PT-YJ"): [
        (
            7,
            "PT-YJ",
            "plan",
            "一、第四季度起，到社区的安全检查由区安委办统一排期，每次提前三个工作日告知，"
            "不再突击检查；二、隐患排查月报与城运平台数据打通，社区不再另行填报；三、取消"
            "对社区的安全生产排名通报；四、每月到社区现场办公一次，当场解决吹哨问题。",
            date(2026, 12, 31),
        ),
        (
            25,
            "PT-YJ",
            "progress",
            "检查统一排期已实施，十一月到社区检查两次，均提前告知；月报数据对接正在测试，"
            "预计十二月中旬上线。",
            None,
        ),
    ],
    # ("q3", "PT-CG") has no steps: its plan is due.
}


def _rng(*parts: object) -> random.Random:
    # Not for secrets: a fixed seed makes the same answers every time.
    return random.Random(":".join(str(part) for part in (SEED, *parts)))  # noqa: S311


def standing(code: str, round_key: str) -> tuple[float, ...]:
    """A department's standing (0–1 in each of DIMENSIONS) in a round."""
    if code in STANDINGS:
        third = STANDINGS[code]
    else:
        base = spread(code, "base", 66, 84)
        third = tuple(
            min(95, base + spread(code, dimension, -8, 8)) for dimension in DIMENSIONS
        )
    if round_key == "q2":
        values = STANDINGS_Q2.get(code) or tuple(
            value - spread(code, "q2", -4, 4) for value in third
        )
    elif round_key == "q4":
        gain = GAINS_Q4.get(code, spread(code, "q4", -3, 3))
        values = tuple(min(97, value + gain) for value in third)
    else:
        values = third
    return tuple(value / 100 for value in values)


def demo_answers(
    rng: random.Random,
    standing: tuple[float, ...],
    *,
    bias: float,
    noise: float,
    use: float,
    why: tuple[int, ...],
) -> dict[str, Any]:
    """One unit's answers to the default questionnaire about a department of
    ``standing``: each answer scores around the standing of its dimension,
    shifted by the unit's ``bias`` (some units are harsher) and ``noise``."""
    level = dict(zip(DIMENSIONS, standing, strict=True))

    def share(dimension: str) -> float:
        return min(1.0, max(0.0, level[dimension] + bias + rng.gauss(0, noise)))

    def scale(dimension: str) -> int:
        return min(5, max(1, round(1 + 4 * share(dimension))))

    def count(dimension: str, full: int) -> int:
        # 0 scores 100, ``full`` or more 0; now and then one more than full.
        return max(0, round((1 - share(dimension)) * (full + 0.6) - 0.3))

    def burden(dimension: str) -> int:
        # Yes (1) adds burden: as likely as the dimension is bad.
        return int(rng.random() > share(dimension))

    def choice(dimension: str, scores: tuple[int, ...]) -> int:
        target = 100 * share(dimension)
        return min(range(len(scores)), key=lambda n: abs(scores[n] - target)) + 1

    answers: dict[str, Any] = {
        "meetings_count": count("meetings", 6),
        "meetings_needed": scale("meetings"),
        "documents_count": count("meetings", 10),
        "documents_clear": scale("meetings"),
        "inspections_count": count("inspections", 4),
        "inspections_planned": scale("inspections"),
        "rankings": burden("inspections"),
        "reports_demanded": burden("inspections"),
        "ledgers_count": count("ledgers", 8),
        "duplicate_reports": burden("ledgers"),
        "apps_count": count("ledgers", 4),
        "ledgers_trend": choice("ledgers", (100, 75, 50, 0)),
        "whistle_answered": scale("responsiveness"),
        "issues_solved": scale("responsiveness"),
        "response_time": choice("responsiveness", (100, 75, 40, 10, 0)),
        "services_used": int(rng.random() < use),
        "recommend": scale("services"),
    }
    if answers["issues_solved"] <= 2:
        picked = rng.choices(range(1, len(why) + 1), weights=why, k=rng.randint(1, 2))
        answers["unsolved_why"] = sorted(set(picked))
    if answers["services_used"]:
        answers["services_useful"] = scale("services")
        answers["services_paperwork"] = burden("services")
    return answers


def _comment_texts(rng: random.Random, levels: tuple[float, ...]) -> list[str]:
    """What the units write about a department of these standings: complaints
    about its weakest dimensions when it burdens, praise when it excels."""
    weights = (0.25, 0.2, 0.2, 0.2, 0.15)
    total = sum(level * weight for level, weight in zip(levels, weights, strict=True))
    weakest = sorted(
        (dimension for dimension in DIMENSIONS if dimension in COMPLAINTS),
        key=lambda dimension: levels[DIMENSIONS.index(dimension)],
    )
    if total < 0.6:
        pool = [*COMPLAINTS[weakest[0]], *COMPLAINTS[weakest[1]][:3]]
        return [*rng.sample(pool, 5), rng.choice(SUGGESTIONS)]
    if total < 0.7:
        return [rng.choice(COMPLAINTS[weakest[0]]), rng.choice(SUGGESTIONS)]
    if total >= 0.85:
        return rng.sample(PRAISE, 3)
    return rng.sample([*PRAISE, *SUGGESTIONS], rng.choice((0, 1, 1, 2)))


@dataclass
class Submission:
    day: date
    user: User
    department: Department
    answers: dict[str, Any]


@contextmanager
def _clock(moment: datetime) -> Iterator[None]:
    """Run the services as if it were ``moment``.

    Every stamp they write and every date they check comes from
    ``django.utils.timezone.now``, and each service commits — so sends its
    notifications — before the block ends: the demo's months replayed step by
    step leave the history the portal would have recorded.
    """
    with mock.patch.object(timezone, "now", return_value=moment):
        yield


def _at(day: date, hour: int, minute: int = 0) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(hour, minute)))


class DemoEvaluations:
    """The demo's rounds built step by step over the demo district, or taken
    on from the state an earlier run left them in. ``written`` counts the
    steps taken: none when the demo was complete."""

    def __init__(self, *, now: datetime) -> None:
        self.now = now
        self.today = timezone.localdate(now)
        self.written = 0
        self.accounts = 0
        self.warnings: list[str] = []
        self.organizer = User.objects.select_related("department").get(
            username=ORGANIZER_USER
        )
        self.district = Region.objects.get(code=DISTRICT_CODE)
        self.communities = list(
            Region.objects.communities()
            .filter(district=self.district)
            .select_related("street")
            .order_by("code")
        )
        self.streets = list(
            Region.objects.filter(
                level=RegionLevel.STREET, district=self.district
            ).order_by("code")
        )
        self.departments = list(
            Department.objects.filter(
                kind=DepartmentKind.FUNCTIONAL, region=self.district
            ).order_by("code")
        )
        self.questionnaire = Questionnaire.objects.filter(
            title=QUESTIONNAIRE_TITLE
        ).order_by("version")[0]
        self.home = User.objects.get(username=HOME_COMMUNITY_USER).region
        # A harsher or a milder eye, the same in every round.
        self.bias = {
            unit.pk: _rng("bias", unit.code).gauss(0, 0.05)
            for unit in (*self.communities, *self.streets)
        }
        self.respondents: dict[int, User] = {}

    def run(self) -> None:
        self.accounts_ensure()
        self.respondents = self._respondents()
        for spec in round_specs(self.today):
            self.round_build(spec)

    # Accounts ----------------------------------------------------------------

    def accounts_ensure(self) -> None:
        """An operator for every community, an account for every street office
        and a publisher for every department with rectification steps, where
        there is none: through the accounts import, without invitations (the
        demo's addresses are made up)."""
        with_account = set(
            User.objects.filter(
                role__in=(Role.COMMUNITY_OPERATOR, Role.STREET_OFFICE), is_active=True
            ).values_list("region_id", "role")
        )
        units = [
            (f"sq{c.code[6:]}", c.code, Role.COMMUNITY_OPERATOR)
            for c in self.communities
            if (c.pk, Role.COMMUNITY_OPERATOR) not in with_account
        ]
        units += [
            (f"jd{s.code[6:9]}", s.code, Role.STREET_OFFICE)
            for s in self.streets
            if (s.pk, Role.STREET_OFFICE) not in with_account
        ]
        staffed = set(
            User.objects.filter(
                role__in=(Role.DEPARTMENT_PUBLISHER, Role.DEPARTMENT_APPROVER),
                is_active=True,
            ).values_list("department__code", flat=True)
        )
        acting = {
            who
            for steps in RECTIFICATION_STEPS.values()
            for _days, who, *_rest in steps
            if who
        }
        units += [
            (f"{code.lower()}-jb", code, Role.DEPARTMENT_PUBLISHER)
            for code in sorted(acting - staffed)
        ]
        taken = set(
            User.objects.filter(username__in=[u for u, _c, _r in units]).values_list(
                "username", flat=True
            )
        )
        rows = [
            {
                "username": username,
                "name": person_name(code),
                "unit_code": code,
                "role": role,
                "email": "",
                "phone": "",
            }
            for username, code, role in units
            if username not in taken
        ]
        if not rows:
            return
        with tempfile.TemporaryDirectory(prefix="seed_assessments_demo-") as folder:
            path = Path(folder) / "seed_assessments_demo.xlsx"
            write_workbook({REGIONS: [], DEPARTMENTS: [], ACCOUNTS: rows}, path)
            try:
                report = import_units_file(
                    path, dry_run=False, mail_invitations=False, file_name=path.name
                )
            except ImportFileError as error:
                raise CommandError(str(error)) from error
        if not report.ok:
            raise CommandError("\n".join(report_lines(report)))
        self.accounts = len(rows)
        self.written += 1

    def _respondents(self) -> dict[int, User]:
        """The account that answers for each unit: the demo's own first."""
        chosen: dict[int, User] = {}
        for user in User.objects.filter(
            region__district=self.district,
            role__in=(Role.COMMUNITY_OPERATOR, Role.STREET_OFFICE),
            is_active=True,
        ).order_by("pk"):
            chosen.setdefault(user.region_id, user)
        for username in (HOME_COMMUNITY_USER, HOME_STREET_USER):
            user = User.objects.get(username=username)
            chosen[user.region_id] = user
        return chosen

    def _staff(self, code: str) -> User | None:
        return (
            User.objects.filter(
                department__code=code,
                role__in=(Role.DEPARTMENT_PUBLISHER, Role.DEPARTMENT_APPROVER),
                is_active=True,
            )
            .order_by("role", "pk")
            .first()
        )

    # Rounds ------------------------------------------------------------------

    def round_build(self, spec: RoundSpec) -> None:
        """Take a round from the state it is in to the one the demo leaves it
        in: published, or open with the answers of its first days."""
        evaluation_round = EvaluationRound.objects.filter(
            organizer=self.organizer.department, name=spec.name
        ).first()
        if evaluation_round is None:
            with _clock(_at(spec.opens_on - timedelta(days=6), 10)):
                evaluation_round = round_save(
                    user=self.organizer,
                    departments=self.departments,
                    name=spec.name,
                    questionnaire=self.questionnaire,
                    period_start=spec.period_start,
                    period_end=spec.period_end,
                    opens_on=spec.opens_on,
                    closes_on=spec.closes_on,
                    community_weight=Decimal("0.7"),
                    street_weight=Decimal("0.3"),
                    min_responses=5,
                    rectification_threshold=Decimal("60"),
                )
            self.written += 1
        else:
            # Made by an interrupted run, maybe on another day: its dates hold.
            spec = replace(
                spec,
                opens_on=evaluation_round.opens_on,
                closes_on=evaluation_round.closes_on,
            )
        if evaluation_round.state == RoundState.DRAFT:
            with _clock(_at(spec.opens_on, 9)):
                round_open(evaluation_round=evaluation_round, user=self.organizer)
            self.written += 1
        if spec.published_on is None:
            # The open round; closed meanwhile by the schedule, it is left be.
            if evaluation_round.state == RoundState.OPEN:
                self.answers_send(spec, evaluation_round)
                # The organization department's own reminder, two days ago.
                reminder = spec.opens_on + timedelta(days=OPEN_DAYS - 2)
                self.remind(evaluation_round, _at(reminder, 9, 30), self.organizer)
            return
        if evaluation_round.state == RoundState.OPEN:
            self.answers_send(spec, evaluation_round)
            # The schedule's, three days before the last day.
            reminder = spec.closes_on - timedelta(days=3)
            self.remind(evaluation_round, _at(reminder, 7, 30), None)
            # The schedule closes a round the morning after its last day.
            with _clock(_at(spec.closes_on + timedelta(days=1), 7, 30)):
                round_close(evaluation_round=evaluation_round, user=None)
                if not RoundResult.objects.filter(round=evaluation_round).exists():
                    # Inside a caller's transaction (the tests') the results
                    # wait for a commit that never comes: compute them here.
                    round_results_compute(evaluation_round=evaluation_round)
            self.written += 1
        if evaluation_round.state == RoundState.CLOSED:
            self.comments_review(spec, evaluation_round)
            with _clock(_at(spec.published_on, 15)):
                round_publish(evaluation_round=evaluation_round, user=self.organizer)
            self.written += 1
        if evaluation_round.state == RoundState.PUBLISHED:
            self.rectifications_follow(spec, evaluation_round)

    def remind(
        self, evaluation_round: EvaluationRound, moment: datetime, user: User | None
    ) -> None:
        if evaluation_round.reminded_at is not None or moment > self.now:
            return
        with _clock(moment):
            round_remind(evaluation_round=evaluation_round, user=user)
        evaluation_round.refresh_from_db(fields=["reminded_at"])
        self.written += 1

    # Answers -----------------------------------------------------------------

    def answers_send(self, spec: RoundSpec, evaluation_round: EvaluationRound) -> None:
        """Send the planned answers not sent yet, day by day."""
        pending = set(
            Participation.objects.filter(
                round=evaluation_round, answered_on__isnull=True
            ).values_list("unit_id", "department_id")
        )
        departments = list(evaluation_round.departments.order_by("code"))
        # The questions read once, not at every answer: the round's
        # questionnaire is frozen since it opened.
        evaluation_round = (
            EvaluationRound.objects.select_related("questionnaire")
            .prefetch_related("questionnaire__questions")
            .get(pk=evaluation_round.pk)
        )
        by_day: dict[date, list[Submission]] = defaultdict(list)
        for submission in self.submissions(spec, departments):
            if (submission.user.region_id, submission.department.pk) in pending:
                by_day[submission.day].append(submission)
        for day in sorted(by_day):
            # One transaction a day, so that SQLite is spared a commit per
            # answer; a run stopped halfway loses that day's only.
            with _clock(_at(day, 10)), transaction.atomic():
                for submission in by_day[day]:
                    evaluation_submit(
                        user=submission.user,
                        evaluation_round=evaluation_round,
                        department=submission.department,
                        answers=submission.answers,
                    )
            self.written += len(by_day[day])

    def submissions(
        self, spec: RoundSpec, departments: list[Department]
    ) -> list[Submission]:
        """Every answer the demo sends in a round: who, about which
        department, on which day, and what. The same on every run."""
        plan = _rng("plan", spec.key)
        days = self._days(spec)
        weights = self._day_weights(spec, days)
        chosen: list[tuple[Region, Department, date]] = []
        for unit in (*self.communities, *self.streets):
            if unit.pk not in self.respondents:
                continue
            share = self._share(spec, unit, plan)
            # A unit sits down to its evaluations on one day and finishes
            # them within the next two.
            first = plan.choices(range(len(days)), weights=weights)[0]
            picked = [d for d in departments if plan.random() < share]
            if unit.pk == self.home.pk and spec.published_on is None:
                picked = plan.sample(
                    departments, round(HOME_PROGRESS * len(departments))
                )
            for department in picked:
                later = min(len(days) - 1, first + plan.choice((0, 0, 0, 1, 1, 2)))
                chosen.append((unit, department, days[later]))
        chosen = self._few_answers(spec, chosen, plan)
        comments = self._comments(spec, chosen, departments)
        submissions = []
        for unit, department, day in chosen:
            street = unit.level == RegionLevel.STREET
            answers = demo_answers(
                _rng("answers", spec.key, unit.code, department.code),
                standing(department.code, spec.key),
                # Street offices see the departments from a little further off.
                bias=self.bias[unit.pk] + (0.03 if street else 0),
                noise=0.1 if street else 0.13,
                use=SERVICE_USE.get(department.code, 0.45),
                why=UNSOLVED_WHY.get(department.code, UNSOLVED_WHY_USUAL),
            )
            text = comments.get((unit.pk, department.pk))
            if text:
                answers["suggestions"] = text
            submissions.append(
                Submission(day, self.respondents[unit.pk], department, answers)
            )
        return submissions

    def _days(self, spec: RoundSpec) -> list[date]:
        """The days answers came in: the whole of a past round; the open
        round's first days, up to the day before the run."""
        if spec.published_on is None:
            last = min(
                spec.opens_on + timedelta(days=OPEN_DAYS - 1),
                self.today - timedelta(days=1),
            )
        else:
            last = spec.closes_on
        return [
            spec.opens_on + timedelta(days=n)
            for n in range((last - spec.opens_on).days + 1)
        ]

    def _day_weights(self, spec: RoundSpec, days: list[date]) -> list[float]:
        """Many answer in the first days, many after the reminder, few at
        weekends."""
        weights = []
        for day in days:
            weight = 3.0 if (day - spec.opens_on).days < 3 else 1.0
            if spec.published_on is not None and (spec.closes_on - day).days < 3:
                weight = 2.5
            weights.append(weight if is_working_day(day) else weight * 0.3)
        return weights

    def _share(self, spec: RoundSpec, unit: Region, plan: random.Random) -> float:
        """The share of its departments a unit answers in a round."""
        if spec.published_on is None:
            street = unit if unit.level == RegionLevel.STREET else unit.street
            progress = OPEN_PROGRESS.get(street.code, 0.6)
            return min(1.0, max(0.0, plan.gauss(progress, 0.3)))
        silent, usual = PAST_COMPLETION[spec.key]
        if unit.level == RegionLevel.STREET:
            return 0.97
        if plan.random() < silent and unit.pk != self.home.pk:
            return 0.0
        return min(1.0, plan.gauss(usual, 0.08))

    def _few_answers(
        self,
        spec: RoundSpec,
        chosen: list[tuple[Region, Department, date]],
        plan: random.Random,
    ) -> list[tuple[Region, Department, date]]:
        """Keep only a handful of the answers about a department too few
        units answered about."""
        few = FEW_ANSWERS.get(spec.key, {})
        kept = [item for item in chosen if item[1].code not in few]
        for code, (communities, streets) in few.items():
            about = [item for item in chosen if item[1].code == code]
            plan.shuffle(about)
            kept += [i for i in about if i[0].level != RegionLevel.STREET][:communities]
            kept += [i for i in about if i[0].level == RegionLevel.STREET][:streets]
        return kept

    def _comments(
        self,
        spec: RoundSpec,
        chosen: list[tuple[Region, Department, date]],
        departments: list[Department],
    ) -> dict[tuple[int, int], str]:
        """Which unit wrote which comment about which department."""
        writers: dict[int, list[int]] = defaultdict(list)
        for unit, department, _day in chosen:
            writers[department.pk].append(unit.pk)
        comments: dict[tuple[int, int], str] = {}
        for department in departments:
            rng = _rng("comments", spec.key, department.code)
            texts = _comment_texts(rng, standing(department.code, spec.key))
            if spec.published_on is None:
                texts = texts[: (len(texts) + 1) // 2]
            for special in (NAMING.get(spec.key), PERSONAL.get(spec.key)):
                if special and special[0] == department.code:
                    texts.append(special[1])
            units = rng.sample(writers[department.pk], len(writers[department.pk]))
            for unit_id, text in zip(units, texts, strict=False):
                comments[unit_id, department.pk] = text
        return comments

    # Review ------------------------------------------------------------------

    def comments_review(
        self, spec: RoundSpec, evaluation_round: EvaluationRound
    ) -> None:
        """The organization department's decisions on the comments, in the
        days after the round closed: most released, the one naming its unit
        released without the name, the one about a person withheld, some
        not yet decided."""
        naming = NAMING.get(spec.key)
        personal = PERSONAL.get(spec.key)
        pending = (
            Comment.objects.filter(round=evaluation_round, state=CommentState.PENDING)
            .select_related("department", "round")
            .order_by("department__code", "text")
        )
        moment = _at(spec.closes_on + timedelta(days=3), 9)
        for comment in pending:
            released = ""
            if naming and comment.text == naming[1]:
                state, released = CommentState.REDACTED, naming[2]
            elif personal and comment.text == personal[1]:
                state = CommentState.WITHHELD
            elif (
                _rng("review", spec.key, comment.department.code, comment.text).random()
                < RELEASED_SHARE[spec.key]
            ):
                state = CommentState.RELEASED
            else:
                continue
            moment += timedelta(minutes=4)
            with _clock(moment):
                comment_review(
                    comment=comment,
                    user=self.organizer,
                    state=state,
                    released_text=released,
                )
            self.written += 1

    def rectifications_follow(
        self, spec: RoundSpec, evaluation_round: EvaluationRound
    ) -> None:
        """The rectification steps the departments and the organization
        department have taken since the round was published."""
        for (key, code), steps in RECTIFICATION_STEPS.items():
            if key != spec.key:
                continue
            item = Rectification.objects.filter(
                round=evaluation_round, department__code=code
            ).first()
            if item is None:
                self.warnings.append(
                    _("%(department)s is not below the threshold in %(round)s.")
                    % {"department": code, "round": spec.name}
                )
                continue
            for days, who, action, text, due_on in steps[item.events.count() :]:
                moment = _at(spec.published_on + timedelta(days=days), 10)
                if moment > self.now:
                    break
                user = self._staff(who) if who else self.organizer
                with _clock(moment):
                    item = rectification_act(
                        rectification=item,
                        user=user,
                        action=action,
                        plan=text if action == "plan" else "",
                        note="" if action == "plan" else text,
                        due_on=due_on,
                    )
                self.written += 1


class Command(BaseCommand):
    help = (
        "Load the demo's reverse evaluation: two published rounds with results, "
        "comments and rectification items, and an open round about three in five "
        "evaluations into, through the evaluation services. Run seed_demo first. "
        "Safe to repeat: once the demo is complete it writes nothing."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        if not (
            User.objects.filter(
                username__in=(ORGANIZER_USER, HOME_COMMUNITY_USER, HOME_STREET_USER)
            ).count()
            == 3
            and Region.objects.filter(code=DISTRICT_CODE).exists()
        ):
            raise CommandError(_("The demo units are missing; run seed_demo first."))
        demo = DemoEvaluations(now=timezone.now())
        demo.run()
        for warning in demo.warnings:
            self.stderr.write(warning)
        if not demo.written:
            self.stdout.write(_("The demo evaluations are already loaded."))
        elif demo.accounts:
            self.stdout.write(
                _("Accounts made for %(count)s units that had none.")
                % {"count": demo.accounts}
            )
        for line in summary(demo.organizer.department_id):
            self.stdout.write(line)


def summary(organizer_id: int) -> list[str]:
    """A line for each of the organizer's rounds: state, answers, comments,
    rectification items."""
    lines = []
    rounds = EvaluationRound.objects.filter(organizer_id=organizer_id).annotate(
        asked=Count("participations", distinct=True),
        answered=Count(
            "participations",
            filter=Q(participations__answered_on__isnull=False),
            distinct=True,
        ),
    )
    for evaluation_round in rounds.order_by("opens_on"):
        comments = Comment.objects.filter(round=evaluation_round)
        lines.append(
            _(
                "%(round)s (%(state)s): %(answered)s of %(asked)s evaluations "
                "answered (%(share)s%%), %(comments)s comments (%(pending)s "
                "waiting for review), %(items)s rectification items"
            )
            % {
                "round": evaluation_round.name,
                "state": evaluation_round.get_state_display(),
                "answered": evaluation_round.answered,
                "asked": evaluation_round.asked,
                "share": round(
                    100 * evaluation_round.answered / max(1, evaluation_round.asked)
                ),
                "comments": comments.count(),
                "pending": comments.filter(state=CommentState.PENDING).count(),
                "items": Rectification.objects.filter(round=evaluation_round).count(),
            }
        )
    return lines
