"""factory_boy factories for the org tree and accounts."""

import factory

from portal.models import (
    CommunityType,
    Department,
    DepartmentFamily,
    DepartmentKind,
    Region,
    RegionLevel,
    Role,
    User,
)


class CityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Region

    code = factory.Sequence(lambda n: f"{31 + n % 60:02d}{n % 100:02d}00000000")
    name = factory.Sequence(lambda n: f"第{n}市")
    level = RegionLevel.CITY


class DistrictFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Region

    parent = factory.SubFactory(CityFactory)
    code = factory.LazyAttributeSequence(
        lambda o, n: f"{o.parent.code[:4]}{n % 99 + 1:02d}000000"
    )
    name = factory.Sequence(lambda n: f"第{n}区")
    level = RegionLevel.DISTRICT
    city = factory.SelfAttribute("parent")


class StreetFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Region

    parent = factory.SubFactory(DistrictFactory)
    code = factory.LazyAttributeSequence(
        lambda o, n: f"{o.parent.code[:6]}{n % 999 + 1:03d}000"
    )
    name = factory.Sequence(lambda n: f"第{n}街道")
    level = RegionLevel.STREET
    city = factory.SelfAttribute("parent.city")
    district = factory.SelfAttribute("parent")


class CommunityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Region

    parent = factory.SubFactory(StreetFactory)
    code = factory.LazyAttributeSequence(
        lambda o, n: f"{o.parent.code[:9]}{n % 999 + 1:03d}"
    )
    name = factory.Sequence(lambda n: f"第{n}居委会")
    level = RegionLevel.COMMUNITY
    city = factory.SelfAttribute("parent.city")
    district = factory.SelfAttribute("parent.district")
    street = factory.SelfAttribute("parent")
    community_type = CommunityType.OLD_URBAN
    households = 1200
    population = 3000


class FamilyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = DepartmentFamily
        django_get_or_create = ("name",)

    name = "民政"


class DepartmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Department

    code = factory.Sequence(lambda n: f"DEP-{n:04d}")
    name = factory.Sequence(lambda n: f"第{n}局")
    kind = DepartmentKind.FUNCTIONAL
    family = factory.SubFactory(FamilyFactory)
    region = factory.SubFactory(DistrictFactory)


class OrganizationDepartmentFactory(DepartmentFactory):
    name = "区委组织部"
    kind = DepartmentKind.ORGANIZATION
    family = None


class UserFactory(factory.django.DjangoModelFactory):
    """A community operator by default; pass role and unit for others."""

    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    name = factory.Sequence(lambda n: f"用户{n}")
    email = factory.LazyAttribute(lambda o: f"{o.username}@example.cn")
    role = Role.COMMUNITY_OPERATOR
    region = factory.SubFactory(CommunityFactory)
    department = None
    password = factory.django.Password("correct-horse-battery")

    @factory.post_generation
    def role_group(obj, create, extracted, **kwargs):
        if create:
            from portal.services import role_groups_assign

            role_groups_assign(users=[obj])
