"""Custom guest-message templates: one per property, channel and language."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKeyConstraint, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from doorpin.adapters.db.models import ID, Base


class MessageTemplate(Base):
    """Checked when saved (it parses and renders with sample data), so sending never meets a broken one."""

    __tablename__ = "message_templates"
    __table_args__ = (ForeignKeyConstraint(["account_id", "property_id"], ["properties.account_id", "properties.id"]),)

    account_id: Mapped[str] = mapped_column(ID, primary_key=True)
    property_id: Mapped[str] = mapped_column(ID, primary_key=True)
    channel: Mapped[str] = mapped_column(String(16), primary_key=True)
    language: Mapped[str] = mapped_column(String(16), primary_key=True)  # lower case: "en", "pt-br"
    subject: Mapped[str | None] = mapped_column(Text)
    text: Mapped[str] = mapped_column(Text)
    html: Mapped[str | None] = mapped_column(Text)
    updated_by_key_id: Mapped[str | None] = mapped_column(ID)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
