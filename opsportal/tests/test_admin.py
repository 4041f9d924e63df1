"""Shared admin plumbing (issue #5): schemas django-jsonform can draw, readable audit changes and documents."""

from __future__ import annotations

from environments.schemas import CONFIG, FREEZE_WINDOWS
from opsportal.admin import widget_schema
from opsportal.admin_html import PATH_SEPARATOR, describe_changes, document_html
from releases.schemas import FEATURES
from workflows.schemas import TRIGGERS


def test_widget_schemas_use_only_what_django_jsonform_draws():
    config = widget_schema(CONFIG)
    # a list of types becomes a type picker, so numbers and booleans stay numbers and booleans
    assert config["additionalProperties"] == {
        "anyOf": [
            {"type": "string", "title": "Text"},
            {"type": "number", "title": "Number"},
            {"type": "boolean", "title": "Yes/no"},
        ]
    }
    params = widget_schema(TRIGGERS)["items"]["properties"]["params"]
    assert params["properties"] == {} and "anyOf" in params["additionalProperties"]
    features = widget_schema(FEATURES, choice_titles={"todo": "To do"})
    task_status = features["items"]["properties"]["tasks"]["items"]["properties"]["status"]
    assert task_status["choices"][:2] == [
        {"title": "To do", "value": "todo"},
        {"title": "In progress", "value": "in_progress"},
    ]
    assert "additionalProperties" not in widget_schema(FREEZE_WINDOWS)["items"]
    # our schema, the validator, is left alone
    assert FEATURES["items"]["additionalProperties"] is False


def test_overrides_set_dotted_paths_in_the_copy_only():
    schema = widget_schema(FREEZE_WINDOWS, overrides={"items.properties.reason.help_text": "Why"})
    assert schema["items"]["properties"]["reason"]["help_text"] == "Why"
    assert "help_text" not in FREEZE_WINDOWS["items"]["properties"]["reason"]


def test_changes_of_embedded_documents_read_by_label():
    before = [{"name": "Login", "tasks": [{"title": "API", "status": "todo"}]}, {"name": "Old", "tasks": []}]
    after = [{"name": "Login", "tasks": [{"title": "API", "status": "done"}]}, {"name": "New", "tasks": []}]
    rows = describe_changes({"features": [before, after], "status": ["draft", "approved"], "reason": "tests"})
    sep = PATH_SEPARATOR
    assert rows == [
        (f"features{sep}Login{sep}tasks{sep}API{sep}status", "todo", "done"),
        (f"features{sep}Old", "removed", "—"),
        (f"features{sep}New", "—", "added"),
        ("status", "draft", "approved"),
        ("reason", "", "tests"),
    ]


def test_created_documents_are_summarised_by_their_labels():
    rows = describe_changes({"members": [None, [{"name": "Alice", "email": "a@x"}, {"name": "Bob", "email": "b@x"}]]})
    assert rows == [("members", "—", "Alice, Bob")]


def test_documents_render_as_escaped_tables():
    html = str(document_html([{"tasks": [{"title": "API", "status": "done"}], "name": "<Login>", "status": "planned"}]))
    # the labelling key first, nested lists last
    assert html.index("<th>Name</th>") < html.index("<th>Status</th>") < html.index("<th>Tasks</th>")
    assert "&lt;Login&gt;" in html
    assert html.count("<table") == 2  # tasks as a nested table
    assert 'data-status="done"' in html
    assert "{" not in html
    assert str(document_html(["a", "b"])) == "a, b"
