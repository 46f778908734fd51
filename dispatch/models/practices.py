"""GP practices, patients' registration with them, multidisciplinary groups and care
coordinators (issue 16, item 1).

The tri-borough model: every patient is on a GP practice's list (the practice is clinically
accountable); practices belong to a provider network; each network runs multidisciplinary
groups (GP, nurses, social worker, consultant, mental health...) led by an MDG manager; each
patient in the top three risk strata has one named care coordinator. Registration and the
coordinator are their own tables (one row per patient) so that the ``patients`` table, which
other work changes, is left alone.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy import orm as so

from dispatch.models.base import Base, UTCDateTime, created_at_column, in_list

#: Who sits in a multidisciplinary group (the NWL pilot's MDGs and the tri-borough case).
MDG_ROLES = ("gp", "practice_nurse", "district_nurse", "social_worker", "consultant",
             "mental_health", "community_pharmacist", "care_coordinator", "hybrid_worker",
             "therapist", "mdg_manager")
#: How often a group meets as a case conference.
MDG_CADENCES = ("weekly", "monthly")
#: The strata a named care coordinator covers (the top 20 % of the population).
COORDINATED_TIERS = ("very_high", "high", "moderate")


class GpPractice(Base):
    """A GP practice: its ODS code (a letter and five digits, e.g. ``E85001``), name, network."""

    __tablename__ = "gp_practices"
    __table_args__ = (sa.CheckConstraint("length(ods_code) = 6", name="ods_code_length"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    ods_code: so.Mapped[str] = so.mapped_column(sa.String(6), unique=True)
    name: so.Mapped[str] = so.mapped_column(sa.String(120))
    network_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("networks.id"), index=True)
    phone: so.Mapped[str | None] = so.mapped_column(sa.String(16))
    created_at: so.Mapped[datetime] = created_at_column()


class PracticeRegistration(Base):
    """A patient's registration with a GP practice (one practice at a time)."""

    __tablename__ = "practice_registrations"

    patient_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("patients.id"), primary_key=True)
    practice_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("gp_practices.id"), index=True)
    registered_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime())
    recorded_by: so.Mapped[str] = so.mapped_column(sa.String(120))

    practice: so.Mapped[GpPractice] = so.relationship()


class MdGroup(Base):
    """A multidisciplinary group of one network; it meets as a case conference."""

    __tablename__ = "md_groups"
    __table_args__ = (sa.CheckConstraint(in_list("cadence", MDG_CADENCES), name="cadence"),
                      sa.UniqueConstraint("network_id", "name", name="uq_md_groups_network_name"))

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    network_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("networks.id"), index=True)
    name: so.Mapped[str] = so.mapped_column(sa.String(120))
    cadence: so.Mapped[str] = so.mapped_column(sa.String(8), default="monthly")
    manager_user_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("users.id"))
    created_at: so.Mapped[datetime] = created_at_column()

    members: so.Mapped[list[MdGroupMember]] = so.relationship(
        back_populates="group", order_by="MdGroupMember.id")


class MdGroupMember(Base):
    """A member of a group by role; linked to a user where they sign in to the service."""

    __tablename__ = "md_group_members"
    __table_args__ = (sa.CheckConstraint(in_list("role", MDG_ROLES), name="role"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    group_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("md_groups.id"), index=True)
    name: so.Mapped[str] = so.mapped_column(sa.String(120))
    role: so.Mapped[str] = so.mapped_column(sa.String(24))
    organisation: so.Mapped[str | None] = so.mapped_column(sa.String(120))
    user_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("users.id"))

    group: so.Mapped[MdGroup] = so.relationship(back_populates="members")


class CareCoordination(Base):
    """The named care coordinator (a user with the coordinator role) of one patient."""

    __tablename__ = "care_coordinations"

    patient_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("patients.id"), primary_key=True)
    coordinator_user_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("users.id"), index=True)
    assigned_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime())
    assigned_by: so.Mapped[str] = so.mapped_column(sa.String(120))
