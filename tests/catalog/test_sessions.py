"""Seats taken belong to the communities that took them: no draft, old
revision or copy of an offering page brings back an older count, and the
editor will not take booked seats away."""

from datetime import timedelta

import pytest
from django.db.models import F
from django.db.models.signals import pre_save
from django.urls import reverse
from django.utils import timezone
from wagtail.test.utils.form_data import querydict_from_html

from catalog.forms import ERROR_BOOKED_SESSION_REMOVED, ERROR_SEATS_BELOW_TAKEN
from catalog.models import BookedSessionError, OfferingPage, OfferingSession
from catalog.services import department_staff_groups_sync
from portal.models import Role
from tests.catalog.helpers import corner, offering
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def page(department) -> OfferingPage:
    """A published offering with one session of 30 seats, none taken."""
    page = offering(corner(department), sessions=[(10, 30, 0)])
    # A revision that holds the session, as every edit in the CMS makes one.
    page.save_revision().publish()
    return OfferingPage.objects.get(pk=page.pk)


def staff(department, role):
    user = UserFactory(role=role, region=None, department=department)
    department_staff_groups_sync(user_ids=[user.pk])
    return user


def take_seats(session: OfferingSession, count: int) -> None:
    """Take seats the way the ordering app does: one conditional UPDATE."""
    taken = OfferingSession.objects.filter(
        pk=session.pk, seats__gte=F("seats_taken") + count
    ).update(seats_taken=F("seats_taken") + count)
    assert taken == 1


def editor_data(client, page):
    """What the CMS editor of ``page`` submits when nothing is changed."""
    response = client.get(reverse("wagtailadmin_pages:edit", args=[page.pk]))
    data = querydict_from_html(response.text, form_id="page-edit-form")
    # The editor's script builds the body's StreamField data; the body is empty.
    data["body-count"] = "0"
    data["action-publish"] = "action-publish"
    return data


def local(moment) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M")


def test_approving_a_draft_saved_before_seats_were_taken_keeps_them(page, department):
    publisher = staff(department, Role.DEPARTMENT_PUBLISHER)
    approver = staff(department, Role.DEPARTMENT_APPROVER)
    draft = page.get_latest_revision_as_object()
    draft.summary = "更新后的简介"
    draft.save_revision(user=publisher)
    task_state = draft.get_workflow().start(draft, publisher).current_task_state
    take_seats(page.sessions.get(), 12)

    task_state.task.specific.on_action(task_state, approver, "approve")

    page.refresh_from_db()
    assert page.summary == "更新后的简介"
    assert page.sessions.get().seats_taken == 12


def test_publishing_an_old_revision_keeps_the_seats_taken_since(page):
    old_revision = page.live_revision
    session = page.sessions.get()
    take_seats(session, 12)
    edited = page.get_latest_revision_as_object()
    edited.sessions.get().place = "街道文化中心"
    edited.save_revision().publish()

    old_revision.publish()

    session.refresh_from_db()
    assert session.place == ""
    assert (session.seats, session.seats_taken) == (30, 12)


def test_a_seat_taken_while_a_revision_is_published_is_kept(page):
    session = page.sessions.get()
    take_seats(session, 2)
    revision = page.save_revision()

    def community_books_meanwhile(**kwargs):
        # After publishing read the revision, before it writes the sessions.
        take_seats(session, 1)

    pre_save.connect(community_books_meanwhile, sender=OfferingPage)
    try:
        revision.publish()
    finally:
        pre_save.disconnect(community_books_meanwhile, sender=OfferingPage)

    session.refresh_from_db()
    assert session.seats_taken == 3


def test_a_session_a_draft_removed_stays_once_communities_book_it(page):
    session = page.sessions.get()
    draft = OfferingPage.objects.get(pk=page.pk)
    draft.sessions = []
    revision = draft.save_revision()
    take_seats(session, 3)

    revision.publish()

    assert OfferingSession.objects.get(offering=page).seats_taken == 3


def test_the_editor_refuses_fewer_seats_than_are_taken(client, page, department):
    session = page.sessions.get()
    take_seats(session, 12)
    revisions = page.revisions.count()
    client.force_login(staff(department, Role.DEPARTMENT_APPROVER))
    edit_url = reverse("wagtailadmin_pages:edit", args=[page.pk])
    data = editor_data(client, page)
    data["sessions-0-seats"] = "5"

    response = client.post(edit_url, data)

    assert response.status_code == 200
    assert (
        str(ERROR_SEATS_BELOW_TAKEN % {"start": local(session.starts_at), "taken": 12})
        in response.text
    )
    session.refresh_from_db()
    assert (session.seats, session.seats_taken) == (30, 12)
    assert page.revisions.count() == revisions
    data["sessions-0-seats"] = "12"
    assert client.post(edit_url, data).status_code == 302
    session.refresh_from_db()
    assert (session.seats, session.seats_taken) == (12, 12)


def test_the_editor_refuses_to_remove_a_booked_session(client, page, department):
    session = page.sessions.get()
    take_seats(session, 3)
    revisions = page.revisions.count()
    client.force_login(staff(department, Role.DEPARTMENT_APPROVER))
    data = editor_data(client, page)
    data["sessions-0-DELETE"] = "1"

    response = client.post(reverse("wagtailadmin_pages:edit", args=[page.pk]), data)

    assert response.status_code == 200
    message = ERROR_BOOKED_SESSION_REMOVED % {"start": local(session.starts_at)}
    assert str(message) in response.text
    assert page.sessions.get().seats_taken == 3
    assert page.revisions.count() == revisions


def test_a_session_added_in_the_editor_starts_with_no_seats_taken(
    client, page, department
):
    take_seats(page.sessions.get(), 3)
    client.force_login(staff(department, Role.DEPARTMENT_APPROVER))
    data = editor_data(client, page)
    start = timezone.localtime() + timedelta(days=20)
    data.update(
        {
            "sessions-TOTAL_FORMS": "2",
            "sessions-1-id": "",
            "sessions-1-starts_at": f"{start:%Y-%m-%d %H:%M}",
            "sessions-1-ends_at": f"{start + timedelta(hours=2):%Y-%m-%d %H:%M}",
            "sessions-1-place": "社区活动室",
            "sessions-1-seats": "20",
            "sessions-1-ORDER": "2",
            "sessions-1-DELETE": "",
        }
    )

    response = client.post(reverse("wagtailadmin_pages:edit", args=[page.pk]), data)

    assert response.status_code == 302
    counts = dict(page.sessions.values_list("place", "seats_taken"))
    assert counts == {"": 3, "社区活动室": 0}


def test_a_copied_offering_starts_with_no_seats_taken(page):
    take_seats(page.sessions.get(), 12)

    copy = page.copy(
        to=page.get_parent(), update_attrs={"title": "第二期", "slug": "second-run"}
    )

    assert copy.sessions.get().seats_taken == 0
    assert page.sessions.get().seats_taken == 12


def test_a_seat_taken_while_the_page_is_saved_keeps_its_session(page):
    # The editor checked before the seat was taken; the save itself refuses.
    stale = OfferingPage.objects.get(pk=page.pk)
    stale.sessions = []
    take_seats(page.sessions.get(), 1)

    with pytest.raises(BookedSessionError):
        stale.save()

    assert page.sessions.get().seats_taken == 1
