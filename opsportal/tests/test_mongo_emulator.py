"""Each patch of the MongoDB emulator (`opsportal/testing/mongo_emulator.py`) on its own: plain
mongomock, no Django database, the behaviour the MongoDB manual page named in the patch describes."""

from __future__ import annotations

import datetime as dt

import mongomock
import pytest
from pymongo.errors import BulkWriteError, DuplicateKeyError

from opsportal.testing import mongo_emulator


@pytest.fixture(scope="module", autouse=True)
def _patched() -> None:
    mongo_emulator.install()


@pytest.fixture
def db():
    return mongomock.MongoClient()["emulator_test"]


def aggregate(collection, *pipeline):
    return list(collection.aggregate(list(pipeline)))


def test_pinned_version():
    assert mongomock.__version__ == mongo_emulator.MONGOMOCK_VERSION


def test_list_collections(db):
    db.create_collection("b_things")
    db["a_things"].insert_one({"_id": 1})
    listed = list(db.list_collections())
    assert [c["name"] for c in listed] == ["a_things", "b_things"]
    assert all(c["type"] == "collection" and c["options"] == {} for c in listed)
    assert [c["name"] for c in db.list_collections(filter={"name": "b_things"})] == ["b_things"]


def test_collection_options(db):
    db.create_collection("plain")
    assert db["plain"].options() == {}


def test_duplicate_key_error_has_the_servers_wording(db):
    db["t"].create_index("k", unique=True)
    db["t"].insert_one({"_id": 1, "k": "x"})
    with pytest.raises(DuplicateKeyError, match=r"^E11000 duplicate key error"):
        db["t"].insert_one({"_id": 2, "k": "x"})
    with pytest.raises(BulkWriteError) as caught:
        db["t"].insert_many([{"_id": 3, "k": "x"}])
    # django-mongodb-backend turns exactly this text into IntegrityError.
    assert "E11000 duplicate key error" in str(caught.value.details)


def test_lookup_with_let_and_pipeline(db):
    db["orders"].insert_many([{"_id": 1, "item": "a", "qty": 5}, {"_id": 2, "item": "b", "qty": 1}])
    db["stock"].insert_many([{"_id": 10, "item": "a", "min": 2}, {"_id": 11, "item": "a", "min": 9}])
    result = aggregate(
        db["orders"],
        {
            "$lookup": {
                "from": "stock",
                "let": {"order_item": "$item", "order_qty": "$qty"},
                "pipeline": [
                    {
                        "$match": {
                            "$expr": {"$and": [{"$eq": ["$item", "$$order_item"]}, {"$lte": ["$min", "$$order_qty"]}]}
                        }
                    },
                    {"$project": {"_id": 1}},
                ],
                "as": "fits",
            }
        },
        {"$sort": {"_id": 1}},
    )
    assert [(doc["_id"], doc["fits"]) for doc in result] == [(1, [{"_id": 10}]), (2, [])]


def test_lookup_concise_form_with_pipeline(db):
    db["releases"].insert_many([{"_id": "r1", "team": "t1"}, {"_id": "r2", "team": None}])
    db["teams"].insert_many([{"_id": "t1", "name": "Web", "active": True}, {"_id": "t2", "name": "Ops"}])
    result = aggregate(
        db["releases"],
        {
            "$lookup": {
                "from": "teams",
                "localField": "team",
                "foreignField": "_id",
                "let": {"wanted": True},
                "pipeline": [{"$match": {"$expr": {"$eq": ["$active", "$$wanted"]}}}, {"$project": {"name": 1}}],
                "as": "team_doc",
            }
        },
        {"$sort": {"_id": 1}},
    )
    assert [doc["team_doc"] for doc in result] == [[{"_id": "t1", "name": "Web"}], []]


def test_lookup_without_pipeline_is_mongomocks_own(db):
    db["a"].insert_one({"_id": 1, "b": 2})
    db["b"].insert_one({"_id": 2})
    assert aggregate(db["a"], {"$lookup": {"from": "b", "localField": "b", "foreignField": "_id", "as": "x"}})[0][
        "x"
    ] == [{"_id": 2}]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("text", "string"),
        (1, "int"),
        (2**40, "long"),
        (1.5, "double"),
        (True, "bool"),
        (None, "null"),
        ({"a": 1}, "object"),
        ([1], "array"),
        (dt.datetime(2026, 1, 1), "date"),
    ],
)
def test_type_expression(db, value, expected):
    db["t"].insert_one({"_id": 1, "v": value})
    assert aggregate(db["t"], {"$project": {"t": {"$type": "$v"}}})[0]["t"] == expected


def test_type_of_a_missing_field(db):
    db["t"].insert_one({"_id": 1})
    assert aggregate(db["t"], {"$project": {"t": {"$type": "$nothing"}}})[0]["t"] == "missing"


def test_get_field_expression(db):
    db["t"].insert_one({"_id": 1, "doc": {"a.b": 1, "$c": 2}, "plain": 3})
    result = aggregate(
        db["t"],
        {
            "$project": {
                "dotted": {"$getField": {"field": "a.b", "input": "$doc"}},
                "dollar": {"$getField": {"field": {"$literal": "$c"}, "input": "$doc"}},
                "short": {"$getField": "plain"},
                "missing": {"$type": {"$getField": {"field": "zzz", "input": "$doc"}}},
            }
        },
    )[0]
    assert (result["dotted"], result["dollar"], result["short"], result["missing"]) == (1, 2, 3, "missing")


def test_date_trunc_expression(db):
    thursday = dt.datetime(2026, 11, 26, 23, 30, 15, 250000)
    db["t"].insert_one({"_id": 1, "at": thursday, "none": None})
    result = aggregate(
        db["t"],
        {
            "$project": {
                "day": {"$dateTrunc": {"date": "$at", "unit": "day"}},
                "day_berlin": {"$dateTrunc": {"date": "$at", "unit": "day", "timezone": "Europe/Berlin"}},
                "week_monday": {"$dateTrunc": {"date": "$at", "unit": "week", "startOfWeek": "monday"}},
                "week_sunday": {"$dateTrunc": {"date": "$at", "unit": "week"}},
                "month": {"$dateTrunc": {"date": "$at", "unit": "month"}},
                "hour": {"$dateTrunc": {"date": "$at", "unit": "hour"}},
                "none": {"$dateTrunc": {"date": "$none", "unit": "day"}},
            }
        },
    )[0]
    assert result["day"] == dt.datetime(2026, 11, 26)
    assert result["day_berlin"] == dt.datetime(2026, 11, 26, 23)  # 00:30 on the 27th in Berlin
    assert result["week_monday"] == dt.datetime(2026, 11, 23)
    assert result["week_sunday"] == dt.datetime(2026, 11, 22)
    assert result["month"] == dt.datetime(2026, 11, 1)
    assert result["hour"] == dt.datetime(2026, 11, 26, 23)
    assert result["none"] is None


def test_unset_stage(db):
    db["t"].insert_one({"_id": 1, "a": 1, "b": 2, "c": 3})
    assert aggregate(db["t"], {"$unset": "a"})[0] == {"_id": 1, "b": 2, "c": 3}
    assert aggregate(db["t"], {"$unset": ["a", "b"]})[0] == {"_id": 1, "c": 3}


def test_project_nested_inclusion(db):
    db["t"].insert_one({"_id": 1, "team": {"name": "Web", "secret": 1}, "other": 2})
    assert aggregate(db["t"], {"$project": {"team": {"name": 1}}})[0] == {"_id": 1, "team": {"name": "Web"}}
    # A nested document with expressions is still computed, as before.
    assert aggregate(db["t"], {"$project": {"x": {"n": "$team.name"}, "_id": 0}})[0] == {"x": {"n": "Web"}}


def test_unknown_operators_still_fail_loudly(db):
    from pymongo.errors import OperationFailure

    db["t"].insert_one({"_id": 1})
    with pytest.raises(OperationFailure, match="Unrecognized expression"):
        aggregate(db["t"], {"$project": {"x": {"$noSuchOperator": 1}}})
