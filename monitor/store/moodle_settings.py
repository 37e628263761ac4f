"""How Moodle's rows are resolved into the canonical views: the ``moodle:`` settings section.

The defaults are enrol_database's usual setup at our reference site: Moodle
users are matched on ``username`` (enrol_database's ``localuserfield``)
against the REFER account's ``uid``; Moodle's standard role ids; archived
courses sit in category 999.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

UserField = Literal["username", "idnumber", "email"]
AccountField = Literal["uid", "staff_id", "cod_etu", "email"]


class MoodleSettings(BaseModel):
    """Resolution of Moodle's numeric ids: users, roles, archive category."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    localuserfield: UserField = Field(
        "username", description="mdl_user column naming the person (enrol_database localuserfield)"
    )
    account_fields: list[AccountField] = Field(
        default_factory=lambda: list[AccountField](["uid"]),
        description="REFER account fields matched against it, in order; the account's uid wins",
    )
    student_roles: list[int] = Field(default_factory=lambda: [5], description="mdl_role ids")
    teacher_roles: list[int] = Field(default_factory=lambda: [3, 4], description="mdl_role ids")
    archive_category_ids: list[int] = Field(default_factory=lambda: [999])
    archive_category_idnumbers: list[str] = Field(default_factory=list)
    archive_category_paths: list[str] = Field(
        default_factory=list,
        description="mdl_course_categories.path prefixes, e.g. /12: that category and below",
    )

    def role_of(self, roleid: int | None) -> Literal["student", "teacher"] | None:
        if roleid in self.student_roles:
            return "student"
        if roleid in self.teacher_roles:
            return "teacher"
        return None
