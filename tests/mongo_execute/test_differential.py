"""The differential suite (issue #17): every scenario of `scenarios.py` gives the same answer on the
MongoDB emulator as on SQLite, modulo the known divergences (`opsportal/testing/mongo_execute.py`).

Runs with `OPSPORTAL_MONGO_EXECUTE=1` (`dev.py test`, step "pytest (MongoDB execute mode)"); the
coverage test runs in every leg.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import pytest

from opsportal.testing.mongo_compile import OUR_APPS
from opsportal.testing.mongo_execute import KNOWN_DIVERGENCES, compare, execute_mode, run_scenario
from tests.mongo_execute.scenarios import registry

execute_only = pytest.mark.skipif(
    not execute_mode(), reason="the MongoDB execute mode is off (OPSPORTAL_MONGO_EXECUTE=1 turns it on)"
)

# Modules whose public functions are the selectors and services (the read and write API of each app).
PUBLIC_MODULE_NAMES = ("selectors", "services", "analytics", "integrity", "sample_data")
# Public functions that are not selectors or services, and why they need no differential scenario.
NOT_DATABASE_CODE = {
    "audit.services.jsonable": "JSON conversion of values; no database",
    "audit.services.canonical_event": "serialises an event in memory; no database",
    "audit.services.event_hash": "a hash of an event in memory; no database (audit_chain verifies stored ones)",
    "audit.services.field_changes": "compares two dicts; no database",
    "audit.services.iso_ms": "formats a datetime; no database",
    "audit.services.head_signature": "an HMAC of three values; no database",
    "audit.services.signed_head": "signs an event in memory; no database",
    "audit.services.signature_matches": "compares an HMAC; no database",
    "evidence.services.canonical": "JSON encoding; no database",
    "evidence.services.document_digests": "hashes a document in memory; no database",
    "evidence.services.evidence_envelope": "signs a document in memory; no database",
    "evidence.services.evidence_verify_offline": "checks a signature and digests in memory; no database",
}


# Apps still being written in this working tree: their selectors and services get scenarios when they
# land (remove the entry then). Every other public function of every app in OUR_APPS needs one.
APPS_IN_PROGRESS: dict[str, str] = {}


def public_functions() -> dict[str, object]:
    """Every public function of our apps' selector/service modules, as "module.function"."""
    found: dict[str, object] = {}
    for app in sorted(OUR_APPS - set(APPS_IN_PROGRESS)):
        package = importlib.import_module(app)
        for info in pkgutil.iter_modules(package.__path__):
            if info.name not in PUBLIC_MODULE_NAMES:
                continue
            module = importlib.import_module(f"{app}.{info.name}")
            exported = set(getattr(module, "__all__", ()))
            for name, value in vars(module).items():
                if name.startswith("_") or not inspect.isfunction(value):
                    continue
                if value.__module__.startswith(module.__name__) or name in exported:
                    found[f"{module.__name__}.{name}"] = value
    return found


def test_every_public_selector_and_service_has_a_differential_scenario():
    """A new selector or service needs a scenario in tests/mongo_execute/scenarios.py (or a reason here)."""
    covered = {name for scenario in registry.scenarios.values() for name in scenario.covers}
    functions = public_functions()
    missing = sorted(set(functions) - covered - set(NOT_DATABASE_CODE))
    assert not missing, f"no differential scenario covers: {', '.join(missing)}"
    assert len(functions) > 50  # the discovery found the apps' modules


def test_scenarios_name_what_exists():
    """`covers` names real functions (or filtersets) and `divergences` known ones."""
    for scenario in registry.scenarios.values():
        for dotted in scenario.covers:
            module, _, name = dotted.rpartition(".")
            assert hasattr(importlib.import_module(module), name), f"{scenario.name}: {dotted} does not exist"
        assert set(scenario.divergences) <= set(KNOWN_DIVERGENCES)
        assert scenario.doc, f"{scenario.name}: say what it shows (docstring)"


@pytest.fixture(scope="session")
def sqlite_answers(tmp_path_factory):
    from opsportal.testing.mongo_execute import record_sqlite_answers

    return record_sqlite_answers(tmp_path_factory.mktemp("differential"))


@execute_only
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("name", list(registry.scenarios))
def test_same_answer_as_sqlite(name, sqlite_answers, differential_report):
    scenario = registry.scenarios[name]
    sqlite = sqlite_answers[name]
    mongodb = run_scenario(scenario)
    for side, answer in (("SQLite", sqlite), ("MongoDB emulator", mongodb)):
        if "crash" in answer:
            pytest.fail(f"{name} crashed on {side}: {answer['crash']}\n{answer['traceback']}", pytrace=False)
    differential_report.add(name, sqlite.pop("meta", {}), mongodb.pop("meta", {}))
    comparison = compare(sqlite, mongodb, allowed=scenario.divergences)
    differential_report.divergences(name, comparison.divergences)
    if not comparison.equal:
        pytest.fail(f"{name}: MongoDB answers differently from SQLite\n{comparison.diff}", pytrace=False)
