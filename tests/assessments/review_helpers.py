"""A round with results for the review pages' tests: departments answered
about well, badly and by too few units, and every kind of user who might
try to read them."""

from __future__ import annotations

from dataclasses import dataclass

from django.urls import reverse

from assessments.models import DepartmentResult, EvaluationRound, RoundState
from assessments.services import (
    evaluation_submit,
    round_close,
    round_publish,
    round_results_compute,
)
from portal.models import Department, Role, User
from tests.assessments.helpers import District, answers, district, round_opened
from tests.factories import DepartmentFactory, UserFactory

# Fewer units than the round's k (3) answer about the thin department.
THIN_ANSWERS = 2


@dataclass
class Scene:
    """A district's closed round: ``good`` and ``weak`` answered by every
    community, ``thin`` by two only; and the users around it."""

    place: District
    round: EvaluationRound
    good: Department
    weak: Department
    thin: Department
    # The organization department of another district.
    outsider: User
    # Staff of a department of the district the round does not evaluate.
    bystander: User

    @property
    def organizer(self) -> User:
        return self.place.organizer

    def staff(self, department: Department) -> User:
        return self.place.staff[department.pk]

    def result(self, department: Department) -> DepartmentResult:
        return DepartmentResult.objects.get(round=self.round, department=department)

    def users(self) -> dict[str, User | None]:
        """Every kind of user, by a name tests print when they fail."""
        return {
            "organizer": self.organizer,
            "other district's organizer": self.outsider,
            "department evaluated": self.staff(self.good),
            "other department": self.staff(self.weak),
            "department not evaluated": self.bystander,
            "community": self.place.operators[0],
            "street office": self.place.street_officers[0],
            "anonymous": None,
        }


def scene(
    *, streets: int = 1, communities: int = 4, departments: int = 3, **fields
) -> Scene:
    """A closed round with its results computed (not published)."""
    place = district(streets=streets, communities=communities, departments=departments)
    good, weak, thin, *others = place.departments
    evaluation_round = round_opened(place, **fields)
    levels = {good.pk: 5, weak.pk: 1}
    for n, department in enumerate(others):
        levels[department.pk] = 2 + n % 4
    for department in place.departments:
        units = (
            place.operators[:THIN_ANSWERS] if department == thin else place.operators
        )
        for user in units:
            evaluation_submit(
                user=user,
                evaluation_round=evaluation_round,
                department=department,
                answers=answers(levels.get(department.pk, 3)),
            )
    close(evaluation_round, place.organizer)
    elsewhere = district(streets=1, communities=1, departments=1)
    bystander_department = DepartmentFactory(region=place.region)
    bystander = UserFactory(
        role=Role.DEPARTMENT_PUBLISHER, region=None, department=bystander_department
    )
    return Scene(
        place=place,
        round=evaluation_round,
        good=good,
        weak=weak,
        thin=thin,
        outsider=elsewhere.organizer,
        bystander=bystander,
    )


def close(evaluation_round: EvaluationRound, user: User) -> None:
    """Close the round and compute its results at once (the task would
    after the commit, which a test's transaction never reaches)."""
    round_close(evaluation_round=evaluation_round, user=user)
    evaluation_round.refresh_from_db()
    round_results_compute(evaluation_round=evaluation_round)
    evaluation_round.refresh_from_db()


def publish(the_scene: Scene) -> None:
    round_publish(evaluation_round=the_scene.round, user=the_scene.organizer)
    the_scene.round.refresh_from_db()
    assert the_scene.round.state == RoundState.PUBLISHED


def get(client, user: User | None, url: str):
    client.logout()
    if user is not None:
        client.force_login(user)
    return client.get(url)


def result_url(the_scene: Scene, department: Department) -> str:
    return reverse("department_result", args=[the_scene.round.pk, department.pk])
