"""The known_tags lookup: the host's tag listing when this run made it, else an empty dict."""

from __future__ import annotations

import os
from typing import Any

import pytest
from ansible.errors import AnsibleLookupError
from ansible_collections.iconeus.tenant_toolkit.plugins.lookup import known_tags as kt
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.state import run

RUN_ID = "r-0123456789ab"
LISTED = {"arn:aws:appstream:eu-west-3:111122223333:fleet/acme-fleet": {"tenant": "acme"}}


@pytest.fixture
def this_run(monkeypatch: pytest.MonkeyPatch) -> None:
    """This process is the controller of run RUN_ID."""
    monkeypatch.setenv(run.RUN_ID_ENV, RUN_ID)
    monkeypatch.setenv(run.RUN_PID_ENV, str(os.getpid()))


def lookup(variables: dict[str, Any], *terms: Any) -> list[Any]:
    return kt.LookupModule().run(list(terms), variables)


def test_the_listing_of_this_run_is_given(this_run: None) -> None:
    assert lookup({"tenant_known_tags": {"run": RUN_ID, "resources": LISTED}}) == [LISTED]


@pytest.mark.parametrize(
    "fact",
    [
        {"run": "r-ffffffffffff", "resources": LISTED},  # another run's (a fact cache, an extra variable)
        {"resources": LISTED},
        {"run": RUN_ID, "resources": "not a mapping"},
        "not a mapping",
    ],
)
def test_anything_else_gives_an_empty_listing(this_run: None, fact: Any) -> None:
    assert lookup({"tenant_known_tags": fact}) == [{}]


def test_without_the_fact_no_run_id_is_needed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(run.RUN_ID_ENV, raising=False)
    assert lookup({}) == [{}]
    assert lookup({"tenant_known_tags": None}) == [{}]


def test_a_fact_in_a_process_that_is_not_the_runs_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(run.RUN_ID_ENV, RUN_ID)
    monkeypatch.setenv(run.RUN_PID_ENV, "1")  # another process's run
    with pytest.raises(AnsibleLookupError):
        lookup({"tenant_known_tags": {"run": RUN_ID, "resources": LISTED}})


def test_terms_are_refused(this_run: None) -> None:
    with pytest.raises(AnsibleLookupError):
        lookup({}, "acme")
