"""Model-layer building blocks of the reference documents (environments, teams, workflows): the
abstract `NamedDocument`, the JSON Schema shapes of the documents they embed (`<app>/schemas.py`),
and the migration step that moves our string primary keys to MongoDB's `_id`."""

from typing import Any

from django.db import migrations, models

from opsportal.clock import now_ms
from opsportal.limits import DESCRIPTION_MAX_LENGTH


def closed_object(title: str, properties: dict[str, Any], *, required: list[str]) -> dict[str, Any]:
    """The schema of an embedded object: these properties only (an unknown key is an error, not kept)."""
    return {
        "type": "object",
        "title": title,
        "properties": properties,
        "required": required,
        "additionalProperties": False,
    }


def array_of(items: dict[str, Any], *, max_items: int, title: str) -> dict[str, Any]:
    """The schema of an embedded list, bounded so a document stays small (DESIGN §3: embed what is bounded)."""
    return {"type": "array", "items": items, "maxItems": max_items, "title": title}


class NamedDocument(models.Model):
    """A document with a slug id chosen on create, a unique name, a description, a `revision`
    (+1 on every write, for conditional updates and `ETag`s) and timestamps."""

    # Stored as `_id` on MongoDB, so lookups by id use the built-in `_id` index (DESIGN §3).
    id = models.SlugField(primary_key=True, max_length=64, db_column="_id")
    name = models.CharField(max_length=200, unique=True)
    description = models.TextField(blank=True, default="", max_length=DESCRIPTION_MAX_LENGTH)
    revision = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(default=now_ms, editable=False)
    # Set by the services on every write (one conditional update), to the millisecond.
    updated_at = models.DateTimeField(default=now_ms, editable=False)
    # +1 whenever a unit of work writes a reference to this document (a release naming its team,
    # a workflow stage naming an environment), without changing `revision` (the document itself did
    # not change). A delete is conditional on it: on MongoDB, where transactions are snapshots, a
    # delete and a new reference then write the same document and cannot both commit (DESIGN §3).
    reference_seq = models.PositiveIntegerField(default=0, editable=False)

    class Meta:
        abstract = True
        ordering = ["name"]
        # `name` is unique and sorted on: on MongoDB a unique constraint is a partial index, which the
        # planner does not use for equality lookups or sorts, so it also gets a plain index (DESIGN §3).
        # Subclasses that declare their own indexes keep this one: `[*NamedDocument.Meta.indexes, ...]`.
        indexes = [models.Index(fields=["name"], name="%(class)s_name_idx")]

    def __str__(self) -> str:
        return self.name


def primary_keys_to_mongodb_id(*model_labels: str) -> migrations.RunPython:
    """The step before `AlterField(id, db_column="_id")` of these models ("app_label.Model").

    On SQLite the `AlterField` renames the column. On MongoDB it would `$rename` `id` to `_id` in
    place, which the server refuses for a document that exists (`_id` is immutable; each one has an
    ObjectId `_id` of its own): so documents still carrying `id` are first rewritten with `_id` taken
    from `id`, by an aggregation whose `$out` replaces the collection in one step, keeping its indexes
    (if it fails, the collection is left as it was). Collections without such documents (a new
    database) are left alone. Going back on a MongoDB database with documents is not supported.
    """

    def forward(apps, schema_editor) -> None:
        connection = schema_editor.connection
        if connection.vendor != "mongodb":
            return
        for label in model_labels:
            table = apps.get_model(label)._meta.db_table
            collection = connection.get_collection(table)
            if collection.find_one({"id": {"$exists": True}}, {"_id": 1}) is None:
                continue
            collection.aggregate(
                [
                    {"$set": {"_id": {"$ifNull": ["$id", "$_id"]}}},
                    {"$unset": "id"},
                    {"$out": table},
                ]
            )

    return migrations.RunPython(forward, migrations.RunPython.noop)
