"""What each role may do: its group, its permissions and the unit it belongs to.

Groups are created and kept in step with this table by ``role_groups_sync``
after every migrate; nobody edits them by hand.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from portal.models import Department, DepartmentKind, Region, RegionLevel, Role

ROLE_GROUP_NAMES: dict[str, str] = {
    Role.COMMUNITY_OPERATOR: "居村委会工作人员",
    Role.DEPARTMENT_PUBLISHER: "部门经办人",
    Role.DEPARTMENT_APPROVER: "部门负责人",
    Role.STREET_OFFICE: "街道（乡镇）工作人员",
    Role.ORGANIZATION_DEPARTMENT: "组织部（减负办）",
    Role.ADMINISTRATOR: "系统管理员",
}

_ADMIN_ACCESS = "wagtailadmin.access_admin"
# Questionnaire versions, edited in the CMS (assessments/wagtail_hooks.py).
_QUESTIONNAIRES = (
    "assessments.add_questionnaire",
    "assessments.change_questionnaire",
    "assessments.delete_questionnaire",
    "assessments.view_questionnaire",
)

ROLE_PERMISSIONS: dict[str, tuple[str, ...]] = {
    Role.COMMUNITY_OPERATOR: (),
    Role.STREET_OFFICE: (),
    Role.DEPARTMENT_PUBLISHER: (_ADMIN_ACCESS,),
    Role.DEPARTMENT_APPROVER: (_ADMIN_ACCESS,),
    Role.ORGANIZATION_DEPARTMENT: (
        _ADMIN_ACCESS,
        "portal.view_region",
        "portal.view_department",
        "portal.view_departmentfamily",
        *_QUESTIONNAIRES,
    ),
    Role.ADMINISTRATOR: (
        _ADMIN_ACCESS,
        "portal.import_units",
        "portal.view_region",
        "portal.change_region",
        "portal.view_department",
        "portal.change_department",
        "portal.view_departmentfamily",
        "portal.add_departmentfamily",
        "portal.change_departmentfamily",
        "catalog.add_category",
        "catalog.change_category",
        "catalog.view_category",
        "search.add_domainterm",
        "search.change_domainterm",
        "search.delete_domainterm",
        "search.view_domainterm",
        "search.add_synonymgroup",
        "search.change_synonymgroup",
        "search.delete_synonymgroup",
        "search.view_synonymgroup",
        "portal.add_user",
        "portal.change_user",
        "portal.view_user",
        "auth.view_group",
        "wagtailcore.change_site",
        *_QUESTIONNAIRES,
    ),
}

ROLES_OF_REGIONS = {
    Role.COMMUNITY_OPERATOR: RegionLevel.COMMUNITY,
    Role.STREET_OFFICE: RegionLevel.STREET,
}
ROLES_OF_DEPARTMENTS = {
    Role.DEPARTMENT_PUBLISHER: {DepartmentKind.FUNCTIONAL},
    Role.DEPARTMENT_APPROVER: {DepartmentKind.FUNCTIONAL},
    Role.ORGANIZATION_DEPARTMENT: {DepartmentKind.ORGANIZATION},
    Role.ADMINISTRATOR: {DepartmentKind.FUNCTIONAL, DepartmentKind.ORGANIZATION},
}

ERROR_ROLE_NEEDS_COMMUNITY = _(
    "A community operator must belong to a community or village."
)
ERROR_ROLE_NEEDS_STREET = _("A street office account must belong to a street or town.")
ERROR_ROLE_NEEDS_FUNCTIONAL = _("This role belongs to a functional department.")
ERROR_ROLE_NEEDS_ORGANIZATION = _("This role belongs to the organization department.")
ERROR_ROLE_NEEDS_DEPARTMENT = _("This role belongs to a department.")

_REGION_ROLE_ERRORS = {
    Role.COMMUNITY_OPERATOR: ERROR_ROLE_NEEDS_COMMUNITY,
    Role.STREET_OFFICE: ERROR_ROLE_NEEDS_STREET,
}


def role_unit_error(role: str, unit: Region | Department) -> str | None:
    """Why ``unit`` cannot hold an account of ``role``, or None when it can."""
    if role in ROLES_OF_REGIONS:
        if isinstance(unit, Region) and unit.level == ROLES_OF_REGIONS[role]:
            return None
        return str(_REGION_ROLE_ERRORS[role])
    if not isinstance(unit, Department):
        return str(ERROR_ROLE_NEEDS_DEPARTMENT)
    if unit.kind in ROLES_OF_DEPARTMENTS[role]:
        return None
    if role == Role.ORGANIZATION_DEPARTMENT:
        return str(ERROR_ROLE_NEEDS_ORGANIZATION)
    return str(ERROR_ROLE_NEEDS_FUNCTIONAL)


def role_edits_content(role: str) -> bool:
    """Roles that work in the CMS at /cms/."""
    return _ADMIN_ACCESS in ROLE_PERMISSIONS.get(role, ())
