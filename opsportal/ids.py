"""Primary keys for new documents (DESIGN §3: explicit string ids on both backends)."""

from bson import ObjectId


def new_id() -> str:
    """A 24-hex-digit ObjectId string: unique, roughly time-ordered, native to MongoDB."""
    return str(ObjectId())
