import pytest

pytestmark = pytest.mark.django_db


def test_fixture_users_each_belong_to_a_unit(
    operator, street_officer, publisher, administrator
):
    assert operator.unit.level == 4
    assert street_officer.unit == operator.unit.parent
    assert publisher.unit.region == operator.unit.district
    assert administrator.groups.get().name == "系统管理员"
