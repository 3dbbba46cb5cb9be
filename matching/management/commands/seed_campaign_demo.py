"""Load two demo ordering campaigns (点单季) of the demo district's
organization department: one published three weeks ago, whose seats became
orders, and one open now, ranked by most of the demo's communities, so the
organizer's preview, the communities' ranking and the departments' orders
all show real content.

Both live through the real services (``matching.campaign_services``): the
published one replayed with the portal's clock set to the days it happened,
as ``seed_orders_demo`` does. Deterministic (a fixed random seed and lottery
seeds); once the demo campaigns exist a second run writes nothing. Run it
after seed_orders_demo.
"""

from __future__ import annotations

import random
from datetime import datetime, time, timedelta

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.translation import gettext as _

from matching.campaign_selectors import campaign_session_candidates
from matching.campaign_services import (
    CampaignSettings,
    campaign_choices_set,
    campaign_close,
    campaign_create,
    campaign_open,
    campaign_publish,
)
from matching.management.commands.seed_orders_demo import (
    HOME_COMMUNITY_USER,
    HOME_DEPARTMENT_CODE,
    _clock,
)
from matching.models import Campaign, CampaignMechanism, CampaignPriority
from portal.models import Department, Role, User

ORGANIZER_USER = "zuzhibu"
PUBLISHED_NAME = "2026年冬季社区工作者能力提升点单季"
OPEN_NAME = "2027年春季社区服务点单季"
SEED = 20261201
# Sessions start at least this long after today, so that the orders are
# still ahead and the open campaign closes before they start.
SESSIONS_FROM_DAYS = 16
PUBLISHED_SESSIONS = 5
OPEN_SESSIONS = 8
MOST_SEATS = 6


class Command(BaseCommand):
    help = "Load the demo ordering campaigns: one published, one open for ranking."

    def handle(self, *args, **options):
        organizer = User.objects.filter(username=ORGANIZER_USER).first()
        if organizer is None:
            raise CommandError(_("Run seed_demo and seed_orders_demo first."))
        if Campaign.objects.filter(
            organizer_id=organizer.department_id, name__in=[PUBLISHED_NAME, OPEN_NAME]
        ).exists():
            self.stdout.write(_("The demo campaigns are already loaded."))
            return
        area = organizer.department.region
        today = timezone.localdate()
        soonest = timezone.now() + timedelta(days=SESSIONS_FROM_DAYS)
        upcoming = [
            session
            for session in campaign_session_candidates(area=area)
            if session.starts_at >= soonest
        ]
        sessions = [session for session in upcoming if session.seats_left >= 3]
        if len(sessions) < PUBLISHED_SESSIONS + OPEN_SESSIONS:
            raise CommandError(_("Too few upcoming sessions: run seed_catalog_demo."))
        draw = random.Random(SEED)  # noqa: S311 - demo data, not a secret
        draw.shuffle(sessions)
        # The demo department's accounts (bumen, fuzeren) should find campaign
        # orders among theirs: its session with most seats left leads the
        # published campaign, however few the orders demo left it (that
        # depends on the day the demo is seeded).
        home = Department.objects.get(code=HOME_DEPARTMENT_CODE).pk
        home_sessions = [
            session
            for session in upcoming
            if session.department_id == home and session.seats_left
        ]
        if home_sessions:
            lead = max(home_sessions, key=lambda session: session.seats_left)
            sessions = [lead, *(s for s in sessions if s.pk != lead.pk)]
        operators = list(
            User.objects.filter(
                role=Role.COMMUNITY_OPERATOR,
                is_active=True,
                region__district_id=area.pk,
            ).order_by("region__code", "pk")
        )
        # One operator ranks for each community.
        operators = list({user.region_id: user for user in operators}.values())

        published = self._published(
            organizer, sessions[:PUBLISHED_SESSIONS], operators, draw, today
        )
        current = self._open(
            organizer, sessions[PUBLISHED_SESSIONS:][:OPEN_SESSIONS], operators, draw
        )
        self.stdout.write(
            _(
                "Demo campaigns loaded: “%(published)s” (published, %(orders)s "
                "orders) and “%(open)s” (open, %(ranked)s communities ranked)."
            )
            % {
                "published": published.name,
                "orders": published.assignments.filter(order__isnull=False).count(),
                "open": current.name,
                "ranked": current.choices.values("community_id").distinct().count(),
            }
        )

    def _published(self, organizer, sessions, operators, draw, today) -> Campaign:
        opened = today - timedelta(days=24)
        closes = opened + timedelta(days=10)
        with _clock(_at(opened, 9)):
            campaign = campaign_create(
                user=organizer,
                settings=CampaignSettings(
                    name=PUBLISHED_NAME,
                    description="社区工作者培训与服务项目集中点单：每个社区最多2个名额，"
                    "有相关需求的社区优先。",
                    opens_on=opened,
                    closes_on=closes,
                    quota=2,
                    max_choices=4,
                    priority_rule=CampaignPriority.OPEN_NEEDS,
                    mechanism=CampaignMechanism.WELFARE,
                    seats=_seats(sessions, draw),
                ),
            )
            campaign.seed = SEED
            campaign.save(update_fields=["seed"])
            campaign_open(user=organizer, campaign_id=campaign.pk)
        self._rank(campaign, operators, draw, share=0.45, start=opened, days=9)
        with _clock(_at(closes + timedelta(days=1), 0, 5)):
            campaign_close(campaign_id=campaign.pk)
        with _clock(_at(closes + timedelta(days=2), 10)):
            campaign_publish(user=organizer, campaign_id=campaign.pk)
        return campaign

    def _open(self, organizer, sessions, operators, draw) -> Campaign:
        today = timezone.localdate()
        opened = today - timedelta(days=3)
        campaign = campaign_create(
            user=organizer,
            settings=CampaignSettings(
                name=OPEN_NAME,
                description="春季社区服务项目点单：排出最想要的场次，截止后统一分配，"
                "与提交先后无关；上季度获得名额少的社区优先。",
                opens_on=opened,
                closes_on=today + timedelta(days=11),
                quota=3,
                max_choices=5,
                priority_rule=CampaignPriority.LEAST_RECEIVED,
                mechanism=CampaignMechanism.WELFARE,
                seats=_seats(sessions, draw),
            ),
        )
        campaign.seed = SEED + 1
        campaign.save(update_fields=["seed"])
        campaign_open(user=organizer, campaign_id=campaign.pk)
        self._rank(campaign, operators, draw, share=0.6)
        return campaign

    def _rank(self, campaign, operators, draw, *, share, start=None, days=0):
        """Have ``share`` of the communities, and always the demo community,
        rank the campaign's sessions, some sessions far more wanted than
        others."""
        offered = list(campaign.sessions.order_by("pk").values_list("pk", flat=True))
        weights = [1 + 4 * (i % 3 == 0) for i in range(len(offered))]
        for operator in operators:
            home = operator.username == HOME_COMMUNITY_USER
            if draw.random() >= share and not home:
                continue
            count = draw.randint(1, min(campaign.max_choices, len(offered)))
            # The demo community (shequ) wants the home department's session
            # most, so that both sides of its order are demo accounts.
            ranking: list[int] = [offered[0]] if home else []
            while len(ranking) < count:
                pick = draw.choices(offered, weights)[0]
                if pick not in ranking:
                    ranking.append(pick)
            day = start + timedelta(days=draw.randint(0, days)) if start else None
            if day is None:
                campaign_choices_set(
                    user=operator, campaign_id=campaign.pk, session_ids=ranking
                )
                continue
            with _clock(_at(day, draw.randint(9, 17))):
                campaign_choices_set(
                    user=operator, campaign_id=campaign.pk, session_ids=ranking
                )


def _seats(sessions, draw) -> dict[int, int]:
    return {
        session.pk: min(session.seats_left, draw.randint(3, MOST_SEATS))
        for session in sessions
    }


def _at(day, hour: int, minute: int = 0) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(hour, minute)))
