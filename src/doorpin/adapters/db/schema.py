"""The whole schema: importing this module registers every table on `Base.metadata`."""

from doorpin.adapters.db import access_models, delivery_models, event_models, models, template_models
from doorpin.adapters.db.models import Base

__all__ = ["Base", "access_models", "delivery_models", "event_models", "models", "template_models"]
