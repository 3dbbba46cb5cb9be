"""Load a few hundred demo orders (点单) of the demo district's communities, in
every state, spread over the last four months and the coming weeks.

The orders live through the real services, replayed in the order things
happened: ``order_place`` and ``order_transition`` with accounts of the right
units, ``orders_escalate`` as the hourly cron would have run it, and
``message_post`` for the conversations. Each step runs with the portal's
clock set to the moment it happened (``_clock``), so everything the services
stamp — placing, answers, escalations, events, messages, inbox notifications —
is dated as it would have been, in order, and every check that depends on the
day (a session not yet started, the notice an offering needs) is that day's.

Orders need accounts: communities and departments of the demo that have none
get one through the accounts import, as seed_demo's do. The catalog demo's
sessions all lie ahead, so some scheduled offerings first get sessions in the
past months the way an editor would add them: a new published revision of
the page, which also refreshes its catalog entry and search document.

Deterministic (a fixed random seed), and keyed by the orders' idempotency
keys: once the demo orders exist a second run writes nothing. Run it after
seed_demo, seed_catalog_demo and seed_matching_demo.
"""

from __future__ import annotations

import math
import random
import tempfile
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from unittest import mock

from django.core.exceptions import PermissionDenied
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from catalog.models import (
    Availability,
    CatalogEntry,
    OfferingKind,
    OfferingPage,
    OfferingSession,
    community_type_bits,
)
from matching.calendar import is_working_day
from matching.lifecycle import TRANSITIONS
from matching.models import ACTIVE_STATES, Order
from matching.need_services import NeedError, message_post
from matching.services import (
    OrderError,
    order_place,
    order_transition,
    orders_escalate,
)
from portal.demo_data import mobile_number, person_name, spread
from portal.importers import (
    ACCOUNTS,
    DEPARTMENTS,
    REGIONS,
    ImportFileError,
    import_units_file,
    report_lines,
)
from portal.management.commands.seed_demo import (
    ACCOUNT_ROWS,
    DISTRICT_CODE,
    write_workbook,
)
from portal.models import Region, Role, User

# The demo accounts whose pages should show the most (seed_demo).
HOME_COMMUNITY_USER = "shequ"  # 天山新村第一居委会
HOME_STREET_USER = "jiedao"  # 长风新村街道
HOME_DEPARTMENT_CODE = "PT-MZ"  # 普陀区民政局: bumen, fuzeren

SEED = 20260801
# The demo orders' idempotency keys: uuid5 of their number in placing order.
KEY_NAMESPACE = uuid.UUID("5f0b8c1e-2d4a-4c1b-9a57-6f1d2b3c4d5e")
# A run places the first hundred weeks before the others: finding any of
# them means the demo orders are loaded.
MARKER_KEYS = 100
WINDOW_DAYS = 120
# Communities ordering in each street other than the home street, which
# orders whole, besides those with an account already.
COMMUNITIES_PER_STREET = 7
# Scheduled offerings given sessions in the past months (one published
# revision each, the slowest step of the seed).
OFFERINGS_WITH_PAST_SESSIONS = 16
FULL_FUTURE_SESSIONS = 5
FULL_PAST_SESSIONS = 2

OPENS, CLOSES = time(8, 30), time(17, 30)
HISTORY_ENDS = time(7)

# Median office hours a department takes to answer an order: some answer the
# same morning, some leave orders past the deadline. Departments not listed
# get one of SPEEDS, fixed by their code.
DEPARTMENT_SPEEDS = {
    "PT-MZ": 7.0,
    "PT-XF": 2.5,
    "PT-WJ": 10.0,
    "PT-GA": 28.0,
    "PT-YJ": 4.0,
    "PT-SF": 14.0,
    "PT-RS": 20.0,
    "PT-WL": 6.0,
    "PT-CL": 12.0,
    "PT-CF-SWZX": 1.5,
    "PT-FG": 32.0,
    "PT-CG": 24.0,
}
SPEEDS = (3.0, 5.0, 8.0, 12.0, 18.0, 26.0)
# Never more than six working days: the organization department would call.
LONGEST_ANSWER_HOURS = 6 * 9

# Final states a story is planned to end in; "overdue" is submitted and
# escalated, "fresh" submitted within the deadline.
OUTCOMES = (
    "fresh",
    "overdue",
    "waitlisted",
    "accepted",
    "scheduled",
    "delivered",
    "confirmed",
    "rejected",
    "cancelled",
    "withdrawn",
)

NOTES = (
    "",
    "",
    "",
    "参加的以楼组长和志愿者为主，希望讲得通俗一些，多举身边的例子。",
    "社区 80 岁以上老人较多，请尽量安排在下午，上午社工要上门走访。",
    "居委会二楼会议室有投影和话筒，可容纳四十人。",
    "去年参加过一次，居民反响很好，这次想让新搬来的居民也听一听。",
    "报名居民中有几位听力不好，麻烦讲师带一个扩音器。",
    "希望结合我们小区的实际情况讲，小区是 80 年代的老公房，楼道比较窄。",
    "社区新来了两位社工，想一起参加学习。",
    "最近辖区连续发生类似问题，居民很关心，想尽快安排。",
    "如果需要社区提前准备材料，请在对话里告诉我们。",
    "参加人员名单会在活动前一周发给贵单位。",
    "村里老人不识字的比较多，宣传资料最好图多字少。",
)
REJECT_REASONS = (
    "授课讲师本月已排满，请改选下个月的场次。",
    "报名人数低于开班要求，建议与邻近社区合并报名。",
    "贵社区本季度已参加过同一项目，请把名额优先留给其他社区。",
    "所选时间与区里的集中整治行动冲突，无法抽调人员。",
    "该项目今年的经费已用完，明年一季度起恢复受理。",
    "点单内容与本项目不符，请在对话里说明具体需要，我们帮忙推荐合适的项目。",
)
FULL_REASON = "本期名额已满，候补未能递补，已为贵社区登记下期优先报名。"
CANCEL_REASONS = (
    "授课讲师临时借调参加防汛值守，本场次取消，恢复后优先为贵社区安排。",
    "受台风预警影响，全区户外和集中活动暂停，本次服务取消。",
    "场地临时用作征兵体检，本期取消，下期开班时会提前通知。",
    "负责同志临时抽调参加区里的专项督查，本次无法安排，下次优先。",
    "上级部门临时调整工作安排，本次无法成行，已记录贵社区需求。",
)
WITHDRAW_REASONS = (
    "",
    "社区当天有换届选举筹备会，人员抽不开。",
    "居民报名人数不够，下次再报。",
    "和街道安排的活动撞了时间。",
    "问题已经通过其他渠道解决了，谢谢。",
)
COMMUNITY_PLACES = (
    "居委会会议室",
    "社区活动室",
    "社区党群服务站",
    "小区中心广场",
)
SESSION_PLACES = (
    "长风街道社区活动中心多功能厅",
    "区社区学院报告厅",
    "街道社区党群服务中心",
    "区应急管理宣教中心",
)
PEOPLE_COMING = {
    OfferingKind.TRAINING: "授课讲师一名、助教一名",
    OfferingKind.SERVICE: "工作人员两名",
    OfferingKind.PROJECT: "项目督导一名、志愿者四名",
    OfferingKind.VENUE: "场地管理员一名",
    OfferingKind.EQUIPMENT: "送货司机一名、技术员一名",
    OfferingKind.EXPERT: "专家一名",
    OfferingKind.MATERIAL: "",
}
DELIVERY_NOTES = (
    "按计划完成，居民参与积极。",
    "实到人数略少于报名，现场答疑时间延长了半小时。",
    "已留下宣传资料五十份，社区可继续发放。",
    "活动后收集居民意见十余条，已转交相关科室。",
    "",
)
# A question of the community and the department's answer.
CONVERSATIONS = (
    ("请问需要社区准备投影和话筒吗？", "投影我们自带，请准备一个话筒和签到表即可。"),
    (
        "能否把开始时间提前到两点？三点以后不少老人要去接孙子。",
        "可以，已调整为下午两点开始。",
    ),
    ("报名人数可能会多五六位，座位够吗？", "够的，请提前一天把最终名单发给我们。"),
    (
        "签到表需要社区盖章吗？",
        "不需要，签到由我们现场完成，社区不用另做台账。",
    ),
    (
        "下雨的话还照常进行吗？",
        "室内部分照常，室外实操改到下周同一时间，会提前通知。",
    ),
    (
        "我们想顺便请讲师看一下小区的消防通道，可以吗？",
        "可以，请安排一位熟悉小区的工作人员陪同。",
    ),
)
NUDGE = "已经过了好几天了，请问这个点单什么时候能答复？居民一直在问。"


def _at(day: date, moment: time) -> datetime:
    return timezone.make_aware(datetime.combine(day, moment))


def _office_later(start: datetime, hours: float) -> datetime:
    """The moment ``hours`` of office time (8:30–17:30 on working days) after
    ``start``: a department answers in its office hours."""
    moment = timezone.localtime(start)
    left = timedelta(hours=hours)
    while True:
        day = moment.date()
        if not is_working_day(day) or moment.time() >= CLOSES:
            moment = _at(day + timedelta(days=1), OPENS)
            continue
        moment = max(moment, _at(day, OPENS))
        closes = _at(day, CLOSES)
        if moment + left <= closes:
            return moment + left
        left -= closes - moment
        moment = _at(day + timedelta(days=1), OPENS)


@contextmanager
def _clock(moment: datetime) -> Iterator[None]:
    """Run the services as if it were ``moment``.

    Every stamp they write and every date they check comes from
    ``django.utils.timezone.now``, and each service commits — so sends its
    notifications — before the block ends; replaying the demo's months step
    by step under this clock leaves the history the portal would have
    recorded, instead of rows rewritten afterwards.
    """
    with mock.patch.object(timezone, "now", return_value=moment):
        yield


@dataclass
class Step:
    """One step of a story after the placing: an action on the order, or a
    message ("say") in its conversation."""

    at: datetime
    action: str
    # None: the community's operator takes the step.
    staff: User | None = None
    options: dict[str, Any] = field(default_factory=dict)
    # Taken only if the order is then in a state the action leaves: the
    # answer to a waiting order, which waits for its promotion.
    optional: bool = False


@dataclass
class Story:
    """One order: what, for whom, when it is placed and each later step."""

    entry: CatalogEntry
    community: Region
    participants: int
    placed_at: datetime
    session: OfferingSession | None = None
    wished: tuple[date, date] | None = None
    note: str = ""
    # The state it is planned to end in (OUTCOMES).
    outcome: str = ""
    steps: list[Step] = field(default_factory=list)
    operator: User | None = None
    key: uuid.UUID | None = None
    order: Order | None = None


class DemoPlan:
    """The demo's stories, planned from the catalog, the accounts and the
    day: the same database on the same day gives the same plan. ``now`` is
    when the demo's history ends; no step is planned after it."""

    def __init__(
        self,
        *,
        now: datetime,
        communities: list[Region],
        entries: list[CatalogEntry],
        home: User,
    ) -> None:
        # Not for secrets: a fixed seed makes the same demo every time.
        self.rng = random.Random(SEED)  # noqa: S311
        self.now = now
        self.today = timezone.localdate(now)
        self.start = _at(self.today - timedelta(days=WINDOW_DAYS), OPENS)
        self.home = home.region
        self.stories: list[Story] = []
        self.operators: dict[int, User] = {}
        for user in User.objects.filter(
            role=Role.COMMUNITY_OPERATOR, is_active=True, region__in=communities
        ).order_by("pk"):
            self.operators.setdefault(user.region_id, user)
        self.operators[self.home.pk] = home
        self.staff: dict[int, list[User]] = defaultdict(list)
        for user in User.objects.filter(
            role__in=(Role.DEPARTMENT_PUBLISHER, Role.DEPARTMENT_APPROVER),
            is_active=True,
        ).order_by("role", "pk"):
            self.staff[user.department_id].append(user)
        # Orders need someone to place and to answer them.
        communities = [c for c in communities if c.pk in self.operators]
        self.entries = [e for e in entries if self.staff[e.department_id]]
        demo_regions = set(
            User.objects.filter(
                role=Role.COMMUNITY_OPERATOR,
                username__in=[row[0] for row in ACCOUNT_ROWS],
            ).values_list("region_id", flat=True)
        )
        # How often a community orders: the demo accounts' most. The whole
        # home street orders (_ordering_communities), a few in the others.
        self.weights = {
            c.pk: 8 if c.pk == self.home.pk else 3 if c.pk in demo_regions else 1
            for c in communities
        }
        # Who may order what: the offering serves the community's area and
        # is meant for its type.
        bits = {c.pk: community_type_bits([c.community_type]) for c in communities}
        self.eligible: dict[int, list[Region]] = {}
        for entry in self.entries:
            areas = {area.pk for area in entry.areas.all()}
            self.eligible[entry.pk] = [
                c
                for c in communities
                if areas & {c.pk, *c.ancestor_ids()}
                and (not entry.community_types or entry.community_types & bits[c.pk])
            ]
        # Per session, the communities with an order under way (one each)
        # and the seats not yet planned for.
        self.in_session: dict[int, set[int]] = defaultdict(set)
        for session_id, community_id in Order.objects.filter(
            state__in=ACTIVE_STATES, session__isnull=False
        ).values_list("session_id", "community_id"):
            self.in_session[session_id].add(community_id)
        self.room: dict[int, int] = {}
        self.past_entries: list[CatalogEntry] = []

    # Sessions in the past months ----------------------------------------------

    def past_sessions_add(self) -> None:
        """Give some scheduled offerings, the home department's all, sessions
        in the past months, as their editors would: a new published revision
        of the page with the sessions added."""
        scheduled = [
            entry
            for entry in self.entries
            if entry.availability == Availability.SCHEDULED
            and len(self.eligible[entry.pk]) >= 10
            and not entry.offering.has_unpublished_changes
        ]
        home = [e for e in scheduled if e.department.code == HOME_DEPARTMENT_CODE]
        others = [e for e in scheduled if e not in home]
        chosen = home + self.rng.sample(
            others, max(0, min(len(others), OFFERINGS_WITH_PAST_SESSIONS - len(home)))
        )
        self.past_entries = sorted(chosen, key=lambda entry: entry.pk)
        for entry in self.past_entries:
            count = 3 if entry in home else self.rng.choice((2, 2, 3))
            span = (WINDOW_DAYS - 12) // count
            sessions = []
            for number in range(count):
                day = self.today - timedelta(
                    days=3 + span * number + self.rng.randint(0, span - 4)
                )
                while not is_working_day(day):
                    day -= timedelta(days=1)
                starts = _at(day, time(self.rng.choice((9, 14, 19))))
                sessions.append(
                    OfferingSession(
                        starts_at=starts,
                        ends_at=starts + _duration(entry.offering),
                        place=self.rng.choice(SESSION_PLACES),
                        seats=self.rng.choice((30, 40, 50, 60)),
                    )
                )
            page = entry.offering.get_latest_revision_as_object()
            page.sessions = sorted(
                [*page.sessions.all(), *sessions], key=lambda s: s.starts_at
            )
            for number, session in enumerate(page.sessions.all()):
                session.sort_order = number
            page.save_revision(log_action=True).publish()

    # The stories ----------------------------------------------------------------

    def plan(self) -> list[Story]:
        """Every story, in the order the orders are placed."""
        by_offering = {entry.pk: entry for entry in self.entries}
        sessions = list(
            OfferingSession.objects.filter(offering_id__in=list(by_offering)).order_by(
                "starts_at", "pk"
            )
        )
        for session in sessions:
            self.room[session.pk] = session.seats - session.seats_taken
        past_ids = {entry.pk for entry in self.past_entries}
        past = [
            s
            for s in sessions
            if s.offering_id in past_ids
            and self.start < s.starts_at
            and s.ends_at < self.now - timedelta(hours=12)
        ]
        future = [
            s
            for s in sessions
            if s.starts_at > self.now + timedelta(days=1)
            and self.eligible[s.offering_id]
        ]
        full = self._full_candidates(past, FULL_PAST_SESSIONS) + self._full_candidates(
            future, FULL_FUTURE_SESSIONS
        )
        for session in past + future:
            entry = by_offering[session.offering_id]
            if session in full:
                self.full_session(entry, session)
            elif session in past:
                self.session_orders(entry, session, self.rng.randint(2, 4))
            else:
                self.session_orders(
                    entry, session, self.rng.choice((0, 1, 1, 1, 2, 2, 3))
                )
        on_request = [
            e for e in self.entries if e.availability == Availability.ON_REQUEST
        ]
        for entry in on_request:
            home = entry.department.code == HOME_DEPARTMENT_CODE
            for _number in range(self.rng.randint(2, 4) + 2 * home):
                self.request_order(entry)
        self.unanswered([s for s in future if s not in full], on_request)
        self.home_covered()
        for story in self.stories:
            story.operator = self.operators[story.community.pk]
        return sorted(self.stories, key=lambda story: story.placed_at)

    def _full_candidates(
        self, sessions: list[OfferingSession], count: int
    ) -> list[OfferingSession]:
        """Small sessions nobody has ordered yet, the home department's first:
        they fill up, and later orders wait for a seat."""
        small = [
            s
            for s in sessions
            if s.seats <= 40
            and s.seats == self.room[s.pk]
            and len(self._candidates(s)) >= 10
        ]
        small.sort(
            key=lambda s: (
                self._entry(s).department.code != HOME_DEPARTMENT_CODE,
                self.rng.random(),
            )
        )
        # The home department's pages show a waiting list, but not only its.
        return (
            small[: min(2, count)]
            + [
                s
                for s in small[2:]
                if self._entry(s).department.code != HOME_DEPARTMENT_CODE
            ][: max(0, count - 2)]
        )

    def _entry(self, session: OfferingSession) -> CatalogEntry:
        return next(e for e in self.entries if e.pk == session.offering_id)

    def _candidates(self, session: OfferingSession) -> list[Region]:
        return [
            c
            for c in self.eligible[session.offering_id]
            if c.pk not in self.in_session[session.pk]
        ]

    def _community(self, candidates: list[Region]) -> Region:
        return self.rng.choices(
            candidates, weights=[self.weights[c.pk] for c in candidates]
        )[0]

    def _size(self, offering: OfferingPage, room: int) -> int:
        """Participants of one order: a community sends a group, not a crowd."""
        low = offering.min_participants or 5
        high = min(offering.max_participants or 40, low + 12, room)
        return self.rng.randint(min(low, high), high) if high >= 1 else 0

    def _story(
        self,
        entry: CatalogEntry,
        community: Region,
        size: int,
        placed: datetime,
        session: OfferingSession | None = None,
        *,
        seated: bool = True,
    ) -> Story:
        story = Story(
            entry=entry,
            community=community,
            participants=size,
            placed_at=placed,
            session=session,
            note=self.rng.choice(NOTES),
        )
        if session is not None:
            self.in_session[session.pk].add(community.pk)
            if seated:
                self.room[session.pk] -= size
        self.stories.append(story)
        return story

    def _placing_window(self, session: OfferingSession) -> tuple[datetime, datetime]:
        if session.starts_at < self.now:
            first = max(self.start, session.starts_at - timedelta(days=35))
            return first, session.starts_at - timedelta(days=4)
        first = max(self.start, self.now - timedelta(days=40))
        return first, self.now - timedelta(minutes=30)

    def session_orders(
        self, entry: CatalogEntry, session: OfferingSession, count: int
    ) -> None:
        """``count`` orders of the session, as long as seats are left. A past
        session took place: its first order was served."""
        first, last = self._placing_window(session)
        for number in range(count):
            candidates = self._candidates(session)
            size = self._size(entry.offering, self.room[session.pk])
            if not candidates or size < 1 or first >= last:
                return
            story = self._story(
                entry,
                self._community(candidates),
                size,
                self.moment_between(first, last),
                session,
            )
            served = session.starts_at < self.now and number == 0
            self._session_path(
                story, session, story.placed_at, outcome="served" if served else ""
            )

    def _session_path(
        self,
        story: Story,
        session: OfferingSession,
        clock_from: datetime,
        *,
        outcome: str = "",
        optional: bool = False,
    ) -> None:
        self.path(
            story,
            clock_from=clock_from,
            starts=session.starts_at,
            ends=session.ends_at,
            place=session.place or self.rng.choice(COMMUNITY_PLACES),
            outcome=outcome,
            optional=optional,
        )

    def full_session(self, entry: CatalogEntry, session: OfferingSession) -> None:
        """Orders that fill the session and two to four more that wait for a
        seat. In a past session, and in some coming ones, a seat holder then
        withdraws, which lets the first in line in; in a past session those
        still waiting were turned down before the day."""
        first, last = self._placing_window(session)
        moments = sorted(self.moment_between(first, last) for _n in range(10))
        holders: list[Story] = []
        while self.room[session.pk] > 0 and len(holders) < 6:
            # The first takes at most half: one of the others leaves later.
            room = self.room[session.pk] // (1 if holders else 2)
            size = self._size(entry.offering, room)
            holders.append(
                self._story(
                    entry,
                    self._community(self._candidates(session)),
                    size,
                    moments[len(holders)],
                    session,
                )
            )
        if self.room[session.pk] > 0:
            # More seats than six orders take: an ordinary session after all.
            for story in holders:
                self._session_path(story, session, story.placed_at)
            return
        leaver = max(holders[1:], key=lambda story: story.participants)
        waiting = [
            self._story(
                entry,
                self._community(self._candidates(session)),
                self.rng.randint(max(1, leaver.participants // 3), leaver.participants),
                moments[6 + number],
                session,
                seated=False,
            )
            for number in range(self.rng.randint(2, 4))
        ]
        for story in holders:
            self._session_path(story, session, story.placed_at, outcome="served")
        for story in waiting:
            story.outcome = "waitlisted"
        if session.starts_at > self.now and self.rng.random() < 0.5:
            return
        left_at = self.moment_between(waiting[-1].placed_at, last)
        # Accepted, perhaps, but not yet given a date when it leaves.
        leaver.steps = [
            step
            for step in leaver.steps
            if step.at < left_at and step.action == "accept"
        ]
        leaver.steps.append(
            Step(left_at, "withdraw", options={"reason": WITHDRAW_REASONS[2]})
        )
        leaver.outcome = "withdrawn"
        # The freed seats go to those waiting, first come first served, up to
        # the first that does not fit (matching.services.waiting_list_promote).
        freed, blocked = leaver.participants, False
        for story in waiting:
            if not blocked and story.participants <= freed:
                freed -= story.participants
                # Having waited for a seat, it takes it.
                self._session_path(
                    story, session, left_at, outcome="served", optional=True
                )
                continue
            blocked = True
            if session.starts_at < self.now:
                refused = self.moment_between(
                    session.starts_at - timedelta(days=3),
                    session.starts_at - timedelta(days=1),
                )
                story.steps.append(
                    Step(
                        max(refused, left_at + timedelta(hours=1)),
                        "reject",
                        self.rng.choice(self.staff[entry.department_id]),
                        {"reason": FULL_REASON},
                        optional=True,
                    )
                )
                story.outcome = "rejected"

    def request_order(
        self,
        entry: CatalogEntry,
        *,
        outcome: str = "",
        placed: datetime | None = None,
    ) -> None:
        """An order of an offering on request, for dates a few weeks after it
        is placed; the department fixes a day among them."""
        rng = self.rng
        candidates = self.eligible[entry.pk]
        if not candidates:
            return
        offering = entry.offering
        placed = placed or self.moment_between(
            self.start, self.now - timedelta(hours=2)
        )
        story = self._story(
            entry, self._community(candidates), self._size(offering, 60), placed
        )
        wished_from = timezone.localdate(placed) + timedelta(
            days=offering.lead_time_days + rng.randint(1, 10)
        )
        wished_to = wished_from + timedelta(days=rng.randint(7, 30))
        story.wished = (wished_from, wished_to)
        day = wished_from + timedelta(
            days=rng.randint(0, (wished_to - wished_from).days)
        )
        while not is_working_day(day) and day < wished_to:
            day += timedelta(days=1)
        starts = _at(day, time(rng.choice((9, 14))))
        place = (
            offering.title
            if offering.kind == OfferingKind.VENUE
            else rng.choice(COMMUNITY_PLACES)
        )
        self.path(
            story,
            clock_from=placed,
            starts=starts,
            ends=starts + _duration(offering),
            place=place,
            outcome=outcome,
        )

    def unanswered(
        self, future: list[OfferingSession], on_request: list[CatalogEntry]
    ) -> None:
        """Orders still waiting for an answer: some placed in the last day or
        two, some past the deadline, most of those of slow departments."""
        rng = self.rng
        home = [e for e in on_request if e.department.code == HOME_DEPARTMENT_CODE]
        slow = [
            e
            for e in on_request
            if e not in home and DEPARTMENT_SPEEDS.get(e.department.code, 0) >= 12
        ]
        for entry in home[:2] + rng.sample(on_request, min(6, len(on_request))):
            placed = self.moment_between(
                self.now - timedelta(days=2), self.now - timedelta(minutes=20)
            )
            self.request_order(entry, outcome="fresh", placed=placed)
        for number, entry in enumerate(home[:1] + rng.sample(slow, min(6, len(slow)))):
            # Placed five to eleven working days ago.
            self.request_order(
                entry,
                outcome="overdue",
                placed=_at(
                    _working_days_before(self.today, 5 + number),
                    time(9 + number % 7, 17),
                ),
            )
        for session in rng.sample(future, min(6, len(future))):
            candidates = self._candidates(session)
            entry = self._entry(session)
            size = self._size(entry.offering, self.room[session.pk])
            if not candidates or size < 1:
                continue
            placed = self.moment_between(
                self.now - timedelta(days=14), self.now - timedelta(days=8)
            )
            story = self._story(
                entry, self._community(candidates), size, placed, session
            )
            self._session_path(story, session, placed, outcome="overdue")

    def home_covered(self) -> None:
        """Give the home community (the ``shequ`` account's) two orders in each
        state: stories it could have placed instead of another become its."""
        home = self.home
        mine = Counter(
            story.outcome for story in self.stories if story.community.pk == home.pk
        )
        for outcome in OUTCOMES:
            for story in self.stories:
                if mine[outcome] >= 2:
                    break
                if (
                    story.outcome == outcome
                    and story.community.pk != home.pk
                    and home in self.eligible[story.entry.pk]
                    and (
                        story.session is None
                        or home.pk not in self.in_session[story.session.pk]
                    )
                ):
                    if story.session is not None:
                        self.in_session[story.session.pk].add(home.pk)
                    story.community = home
                    mine[outcome] += 1

    # Moments and paths ----------------------------------------------------------

    def moment_between(self, first: datetime, last: datetime) -> datetime:
        """A moment in office hours of a working day between ``first`` and
        ``last`` when one is found, else any moment between them."""
        span = (last - first).total_seconds()
        for _attempt in range(12):
            day = timezone.localtime(
                first + timedelta(seconds=self.rng.uniform(0, span))
            ).date()
            moment = _at(day, time(8, 40)) + timedelta(
                seconds=self.rng.randint(0, 8 * 3600 + 30 * 60)
            )
            if is_working_day(day) and first <= moment <= last:
                return moment
        return first + timedelta(seconds=self.rng.uniform(0, span))

    def answer_hours(self, code: str) -> float:
        """Office hours the department takes to answer this time: around its
        median, now and then much longer."""
        median = DEPARTMENT_SPEEDS.get(code) or SPEEDS[spread(code, "speed", 0, 5)]
        hours = median * math.exp(self.rng.gauss(0, 0.6))
        return min(max(hours, 0.3), LONGEST_ANSWER_HOURS)

    def path(
        self,
        story: Story,
        *,
        clock_from: datetime,
        starts: datetime,
        ends: datetime,
        place: str,
        outcome: str = "",
        optional: bool = False,
    ) -> None:
        """Plan the department's answer to the order and what follows, for a
        session or a date fixed on request, from ``starts`` to ``ends``.

        ``outcome`` forces the story: "fresh" or "overdue" (no answer yet),
        "rejected", "withdrawn", "cancelled" or "served" (accepted and, as far
        as time allows, scheduled, delivered, confirmed); by default it is
        drawn. Steps that would come after now are left out, so the order
        stays where it is today."""
        rng, now = self.rng, self.now
        staff = self.staff[story.entry.department_id]
        # Everything is settled by the eve of the date.
        eve = starts - timedelta(hours=16)
        settle_by = min(eve, now)
        answer = _office_later(
            clock_from, self.answer_hours(story.entry.department.code)
        )
        if answer >= eve and settle_by > clock_from:
            # The date is near: the department answers in time.
            answer = self.moment_between(clock_from, settle_by)
        if not outcome:
            roll = rng.random()
            outcome = (
                "rejected"
                if roll < 0.08
                else "withdrawn"
                if roll < 0.15
                else "cancelled"
                if roll < 0.20
                else "served"
            )
        if outcome in ("fresh", "overdue") or answer >= now or settle_by <= clock_from:
            story.outcome = "overdue" if outcome == "overdue" else "fresh"
            nudge = _office_later(clock_from, rng.uniform(27, 34))
            if outcome == "overdue" and nudge < now:
                story.steps.append(Step(nudge, "say", options={"body": NUDGE}))
            return

        def department(at: datetime, action: str, **options: Any) -> None:
            story.steps.append(Step(at, action, rng.choice(staff), options, optional))

        if outcome == "rejected":
            department(answer, "reject", reason=rng.choice(REJECT_REASONS))
            story.outcome = "rejected"
            return
        if outcome == "withdrawn":
            withdraw = self.moment_between(clock_from, settle_by)
            if withdraw > answer:
                department(answer, "accept")
            reason = rng.choice(WITHDRAW_REASONS)
            story.steps.append(
                Step(
                    withdraw, "withdraw", options={"reason": reason}, optional=optional
                )
            )
            story.outcome = "withdrawn"
            return
        department(answer, "accept")
        story.outcome = "accepted"
        # The day and place are fixed one to three weeks ahead, or at once
        # when the date is nearer.
        scheduled = max(
            _office_later(answer, rng.uniform(1, 24)),
            self.moment_between(
                starts - timedelta(days=24), starts - timedelta(days=8)
            ),
        )
        if scheduled >= eve:
            scheduled = answer + timedelta(minutes=rng.randint(10, 50))
        if scheduled < min(starts, now):
            department(
                scheduled,
                "schedule",
                scheduled_at=starts,
                scheduled_place=place,
                scheduled_people=PEOPLE_COMING[story.entry.kind],
            )
            story.outcome = "scheduled"
        last = story.steps[-1].at
        if outcome == "cancelled":
            if last < settle_by:
                cancelled = self.moment_between(last, settle_by)
                department(cancelled, "cancel", reason=rng.choice(CANCEL_REASONS))
                story.outcome = "cancelled"
            return
        self.conversation(story, staff, answer, min(starts, now))
        if ends >= now or story.outcome != "scheduled":
            return
        delivered = _office_later(ends, rng.uniform(0.5, 16))
        if delivered >= now:
            delivered = ends + (now - ends) * 0.5
        department(
            delivered,
            "deliver",
            attendance=max(1, story.participants + rng.randint(-4, 2)),
            delivery_note=rng.choice(DELIVERY_NOTES),
        )
        story.outcome = "delivered"
        confirmed = _office_later(delivered, rng.uniform(1, 60))
        # Most communities confirm within days; a few leave it waiting.
        if confirmed < now and rng.random() < 0.9:
            story.steps.append(Step(confirmed, "confirm", optional=optional))
            story.outcome = "confirmed"

    def conversation(
        self, story: Story, staff: list[User], first: datetime, last: datetime
    ) -> None:
        """Now and then a question of the community and the department's
        answer, between ``first`` and ``last``."""
        if self.rng.random() > 0.22 or last - first < timedelta(hours=6):
            return
        question, answer = self.rng.choice(CONVERSATIONS)
        asked = self.moment_between(first, first + (last - first) / 2)
        answered = _office_later(asked, self.rng.uniform(0.3, 5))
        if answered < last:
            story.steps.append(Step(asked, "say", options={"body": question}))
            story.steps.append(
                Step(answered, "say", self.rng.choice(staff), {"body": answer})
            )


def _duration(offering: OfferingPage) -> timedelta:
    return timedelta(hours=float(offering.duration_hours or Decimal(2)))


def _working_days_before(day: date, count: int) -> date:
    while count:
        day -= timedelta(days=1)
        count -= is_working_day(day)
    return day


def replay(stories: list[Story], *, start: datetime, now: datetime) -> list[str]:
    """Take every step of every story in the order they happened, each under
    the clock of its moment, with the escalation run as the hourly cron would
    have, a few minutes after each midnight. Returns the steps that failed."""
    queue: list[tuple[datetime, int, Story | None, Step | None]] = []
    for story in stories:
        queue.append((story.placed_at, len(queue), story, None))
        queue += [(step.at, len(queue), story, step) for step in story.steps]
    day = start.date()
    while (tick := _at(day, time(0, 5))) < now:
        queue.append((tick, len(queue), None, None))
        day += timedelta(days=1)
    queue.sort(key=lambda item: (item[0], item[1]))
    failures = []
    for at, _number, story, step in queue:
        with _clock(at):
            if story is None:
                orders_escalate()
                continue
            try:
                _take(story, step)
            except (OrderError, NeedError, PermissionDenied) as error:
                failures.append(
                    f"{story.entry.offering.title} · {story.community.name} · "
                    f"{step.action if step else 'place'}: {error!r}"
                )
    return failures


def _take(story: Story, step: Step | None) -> None:
    operator = story.operator
    if step is None:
        wished_from, wished_to = story.wished or (None, None)
        story.order = order_place(
            user=operator,
            offering=story.entry.offering,
            session=story.session,
            participants=story.participants,
            contact_name=operator.get_full_name(),
            contact_phone=operator.phone or mobile_number(story.community.code),
            wished_from=wished_from,
            wished_to=wished_to,
            note=story.note,
            idempotency_key=story.key,
        )
        return
    if story.order is None:
        return
    user = step.staff or operator
    if step.action == "say":
        message_post(thread=story.order, user=user, body=step.options["body"])
        return
    if step.optional:
        state = Order.objects.values_list("state", flat=True).get(pk=story.order.pk)
        if state not in TRANSITIONS[step.action].sources:
            return
    story.order = order_transition(
        order_id=story.order.pk, user=user, action=step.action, **step.options
    )


class Command(BaseCommand):
    help = (
        "Load a few hundred demo orders of the demo district's communities in "
        "every state, over the last four months and the coming weeks, through "
        "the ordering services. Run seed_demo, seed_catalog_demo and "
        "seed_matching_demo first. Safe to repeat: once the demo orders exist "
        "it writes nothing."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        home = User.objects.filter(username=HOME_COMMUNITY_USER).first()
        district = Region.objects.filter(code=DISTRICT_CODE).first()
        if home is None or district is None or not CatalogEntry.objects.exists():
            raise CommandError(
                _("The demo units or offerings are missing; run seed_demo first.")
            )
        markers = [_demo_key(number) for number in range(MARKER_KEYS)]
        if Order.objects.filter(idempotency_key__in=markers).exists():
            self.stdout.write(_("The demo orders are already loaded."))
            return
        now = _history_ends(timezone.now())
        communities = _ordering_communities(district)
        # The district's departments and its streets': the demo's offerings.
        entries = list(
            CatalogEntry.objects.filter(
                department__region__in=Region.objects.subtree(district)
            )
            .select_related("offering", "department")
            .prefetch_related("areas")
            .order_by("offering_id")
        )
        # The orders are replayed step by step, each step committed as the
        # portal would; what prepares them is made all at once or not at all.
        with transaction.atomic():
            _accounts_ensure(communities, entries)
            plan = DemoPlan(
                now=now, communities=communities, entries=entries, home=home
            )
            plan.past_sessions_add()
            stories = plan.plan()
        for number, story in enumerate(stories):
            story.key = _demo_key(number)
        failures = replay(stories, start=plan.start, now=now)
        for failure in failures:
            self.stderr.write(failure)
        self.stdout.write(
            _("%(count)s demo orders loaded.")
            % {"count": sum(story.order is not None for story in stories)}
        )


def _history_ends(now: datetime) -> datetime:
    """Seven this morning, or yesterday's before then: the demo's history ends
    there, so that runs on one day make the same demo."""
    morning = _at(timezone.localdate(now), HISTORY_ENDS)
    return morning if now >= morning else morning - timedelta(days=1)


def _demo_key(number: int) -> uuid.UUID:
    return uuid.uuid5(KEY_NAMESPACE, str(number))


def _ordering_communities(district: Region) -> list[Region]:
    """The home street's communities, and in every other street those with
    an account and a few more, the same ones every time."""
    home_street_id = (
        User.objects.filter(username=HOME_STREET_USER)
        .values_list("region_id", flat=True)
        .first()
    )
    with_account = set(
        User.objects.filter(role=Role.COMMUNITY_OPERATOR, is_active=True).values_list(
            "region_id", flat=True
        )
    )
    by_street: dict[int, list[Region]] = defaultdict(list)
    for community in (
        Region.objects.communities().filter(district=district).order_by("code")
    ):
        by_street[community.street_id].append(community)
    chosen = []
    for street_id, members in sorted(by_street.items()):
        if street_id == home_street_id:
            chosen += members
            continue
        members.sort(
            key=lambda c: (c.pk not in with_account, spread(c.code, "pick", 0, 999))
        )
        chosen += members[: COMMUNITIES_PER_STREET + 1]
    return chosen


def _accounts_ensure(communities: list[Region], entries: list[CatalogEntry]) -> None:
    """An operator for each ordering community, and a publisher for each
    department with offerings, that has none: through the accounts import,
    without invitations (the demo's addresses are made up)."""
    staffed = set(
        User.objects.filter(
            role__in=(Role.DEPARTMENT_PUBLISHER, Role.DEPARTMENT_APPROVER),
            is_active=True,
        ).values_list("department_id", flat=True)
    )
    operated = set(
        User.objects.filter(role=Role.COMMUNITY_OPERATOR, is_active=True).values_list(
            "region_id", flat=True
        )
    )
    units = [
        (f"sq{community.code[6:]}", community.code, Role.COMMUNITY_OPERATOR)
        for community in communities
        if community.pk not in operated
    ]
    units += [
        (f"{department.code.lower()}-jb", department.code, Role.DEPARTMENT_PUBLISHER)
        for department in {
            entry.department_id: entry.department
            for entry in entries
            if entry.department_id not in staffed
        }.values()
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
            "phone": mobile_number(code),
        }
        for username, code, role in units
        if username not in taken
    ]
    if not rows:
        return
    with tempfile.TemporaryDirectory(prefix="seed_orders_demo-") as folder:
        path = Path(folder) / "seed_orders_demo.xlsx"
        write_workbook({REGIONS: [], DEPARTMENTS: [], ACCOUNTS: rows}, path)
        try:
            report = import_units_file(
                path, dry_run=False, mail_invitations=False, file_name=path.name
            )
        except ImportFileError as error:
            raise CommandError(str(error)) from error
    if not report.ok:
        raise CommandError("\n".join(report_lines(report)))
