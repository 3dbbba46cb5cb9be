"""Building blocks for evaluation tests: a district with communities and
departments, an organization department, a round of the portal's own
questionnaire, and answers that score what a test wants."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from django.utils import timezone

from assessments.models import EvaluationRound, Questionnaire, RoundState
from assessments.services import evaluation_submit, round_open, round_save
from portal.models import Department, Region, Role, User
from tests.factories import (
    CommunityFactory,
    DepartmentFactory,
    DistrictFactory,
    FamilyFactory,
    OrganizationDepartmentFactory,
    StreetFactory,
    UserFactory,
)

DEFAULT_TITLE = "为基层减负反向评价问卷"


def default_questionnaire() -> Questionnaire:
    """The questionnaire migration 0002 installs."""
    return Questionnaire.objects.get(title=DEFAULT_TITLE, version=1)


@dataclass
class District:
    """A district of ``streets`` streets with ``communities`` communities
    each (one operator apiece), departments in two families, a street office
    account per street and the organization department."""

    region: Region
    streets: list[Region]
    operators: list[User]
    street_officers: list[User]
    departments: list[Department]
    organizer: User
    staff: dict[int, User] = field(default_factory=dict)


def district(
    *, streets: int = 2, communities: int = 4, departments: int = 3
) -> District:
    region = DistrictFactory()
    street_regions = [StreetFactory(parent=region) for _ in range(streets)]
    operators = [
        UserFactory(
            role=Role.COMMUNITY_OPERATOR, region=CommunityFactory(parent=street)
        )
        for street in street_regions
        for _ in range(communities)
    ]
    officers = [
        UserFactory(role=Role.STREET_OFFICE, region=street) for street in street_regions
    ]
    families = [FamilyFactory(name="民政"), FamilyFactory(name="卫健")]
    depts = [
        DepartmentFactory(region=region, family=families[n % 2])
        for n in range(departments)
    ]
    org = OrganizationDepartmentFactory(region=region)
    organizer = UserFactory(
        role=Role.ORGANIZATION_DEPARTMENT, region=None, department=org
    )
    staff = {
        d.pk: UserFactory(role=Role.DEPARTMENT_PUBLISHER, region=None, department=d)
        for d in depts
    }
    return District(
        region, street_regions, operators, officers, depts, organizer, staff
    )


def round_draft(place: District, **fields) -> EvaluationRound:
    """A draft round of the default questionnaire over ``place``, open today."""
    today = timezone.localdate()
    settings = {
        "name": "2026年第四季度",
        "questionnaire": default_questionnaire(),
        "period_start": date(2026, 10, 1),
        "period_end": date(2026, 12, 31),
        "opens_on": today,
        "closes_on": today + timedelta(days=14),
        "community_weight": Decimal("1"),
        "street_weight": Decimal("0"),
        "min_responses": 3,
        **fields,
    }
    departments = settings.pop("departments", place.departments)
    return round_save(user=place.organizer, departments=departments, **settings)


def round_opened(place: District, **fields) -> EvaluationRound:
    evaluation_round = round_draft(place, **fields)
    round_open(evaluation_round=evaluation_round, user=place.organizer)
    evaluation_round.refresh_from_db()
    assert evaluation_round.state == RoundState.OPEN
    return evaluation_round


def answers(level: int = 5, **overrides) -> dict:
    """Answers to the default questionnaire that all say the same: ``level``
    from 1 (the department is a burden) to 5 (it took burden away)."""
    good = level >= 3
    share = (level - 1) / 4
    values = {
        "meetings_count": round(6 * (1 - share)),
        "meetings_needed": level,
        "documents_count": round(10 * (1 - share)),
        "documents_clear": level,
        "inspections_count": round(4 * (1 - share)),
        "inspections_planned": level,
        "rankings": 0 if good else 1,
        "reports_demanded": 0 if good else 1,
        "ledgers_count": round(8 * (1 - share)),
        "duplicate_reports": 0 if good else 1,
        "apps_count": round(4 * (1 - share)),
        "ledgers_trend": 1 if good else 4,
        "whistle_answered": level,
        "issues_solved": level,
        "response_time": 1 if good else 5,
        "services_used": 1,
        "services_useful": level,
        "services_paperwork": 0 if good else 1,
        "recommend": level,
    }
    if level <= 2:
        values["unsolved_why"] = [1, 3]
    values.update(overrides)
    return values


def answer_all(
    evaluation_round: EvaluationRound,
    users: list[User],
    department: Department,
    level=5,
) -> None:
    for user in users:
        evaluation_submit(
            user=user,
            evaluation_round=evaluation_round,
            department=department,
            answers=answers(level),
        )
