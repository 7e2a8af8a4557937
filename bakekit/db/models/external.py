"""Keys of other applications remembered: which local row a bake-tracker id or uuid named."""

from __future__ import annotations

from sqlalchemy import Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from bakekit.db.models.base import Base


class ExternalId(Base):
    """One row of another application (``source``, e.g. "bake-tracker") as seen here:
    its ``entity`` (the bakekit table: products, suppliers, ingredients, purchases, lots),
    its integer ``external_id`` and/or ``uuid``, and the local row's id in that table."""

    __tablename__ = "external_ids"
    __table_args__ = (
        Index("ix_external_ids_lookup", "source", "entity", "external_id"),
        Index("ix_external_ids_uuid", "source", "entity", "uuid"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(String(50))
    entity: Mapped[str] = mapped_column(String(50))
    external_id: Mapped[str | None] = mapped_column(String(100))
    uuid: Mapped[str | None] = mapped_column(String(100))
    local_id: Mapped[int] = mapped_column(Integer)
