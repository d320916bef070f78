"""The state store's pure parts: run identity, lock holders and their liveness, history records and listing."""

from __future__ import annotations

import pytest
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.state import history, lock, run, store

NOW = 1_800_000_000.0
HERE = {"host": "ctl1", "boot_id": "boot-1", "pid_namespace": "4026531836"}


def holder(**overrides: object) -> lock.Holder:
    values = {
        "run_id": "r-0123456789ab",
        "operator": "alice",
        "caller_arn": "arn:aws:sts::123456789012:assumed-role/deployer/alice",
        "host": "ctl1",
        "pid": 4242,
        "process_start": "98765",
        "boot_id": "boot-1",
        "pid_namespace": "4026531836",
        "started": "2026-12-06T10:15:03Z",
        "playbook": "site.yml",
        "lease_expires": NOW + 200,
    }
    values.update(overrides)
    return lock.holder_from_params(values)


# -- run ids ------------------------------------------------------------------------------------------
def test_run_ids_are_unique_and_match_their_pattern() -> None:
    ids = {run.new_run_id() for attempt in range(200)}
    assert len(ids) == 200
    assert all(run.is_run_id(run_id) for run_id in ids)


@pytest.mark.parametrize(
    "value", ["", "r-0123", "r-0123456789aB", "x-0123456789ab", "r-0123456789ab; rm -rf /", None, 5]
)
def test_anything_else_is_not_a_run_id(value: object) -> None:
    assert not run.is_run_id(value)


# -- liveness -----------------------------------------------------------------------------------------
def test_a_holder_on_this_machine_whose_pid_is_gone_is_provably_dead() -> None:
    assert lock.provably_dead(holder(), HERE, start_of=lambda pid: None)


def test_a_reused_pid_does_not_keep_a_dead_holder_alive() -> None:
    assert lock.provably_dead(holder(), HERE, start_of=lambda pid: "11111")


def test_a_holder_whose_process_still_runs_is_alive() -> None:
    assert not lock.provably_dead(holder(), HERE, start_of=lambda pid: "98765")


@pytest.mark.parametrize(
    "elsewhere",
    [
        {"boot_id": "boot-2"},  # another machine, or this one rebooted... pids are not comparable
        {"pid_namespace": "4026532999"},  # another container on the same kernel
        {"boot_id": ""},  # a controller without /proc (macOS)
        {"process_start": ""},  # no start time recorded: a pid alone proves nothing
    ],
)
def test_nothing_is_proved_about_a_holder_elsewhere(elsewhere: dict[str, str]) -> None:
    assert not lock.provably_dead(holder(**elsewhere), HERE, start_of=lambda pid: None)


def test_why_gone_names_an_expired_lease_or_a_dead_process_and_nothing_for_a_live_run() -> None:
    assert "lease expired" in lock.why_gone(holder(lease_expires=NOW - 61), HERE, NOW, start_of=lambda pid: "98765")
    assert "no longer exists" in lock.why_gone(holder(), HERE, NOW, start_of=lambda pid: None)
    assert lock.why_gone(holder(), HERE, NOW, start_of=lambda pid: "98765") is None


def test_the_description_of_a_holder_names_run_operator_host_start_and_playbook() -> None:
    text = lock.describe(holder(), NOW)
    for part in ("r-0123456789ab", "operator alice", "host ctl1 pid 4242", "started 2026-12-06T10:15:03Z", "site.yml"):
        assert part in text
    assert "lease expires in 3m20s" in text
    assert "lease expired 1m00s ago" in lock.describe(holder(lease_expires=NOW - 60), NOW)


def test_a_lock_item_carries_the_holder_and_its_lease() -> None:
    item = lock.item_of("acme-neuro", holder(), NOW, 300)
    assert item["pk"] == {"S": "lock#acme-neuro"}
    assert float(item["lease_expires"]["N"]) == NOW + 300
    back = lock.holder_from_item(item)
    assert (back.run_id, back.operator, back.pid, back.playbook, back.lease_seconds) == (
        "r-0123456789ab",
        "alice",
        4242,
        "site.yml",
        300,
    )
    assert back.lease_expires == NOW + 300


# -- store names ----------------------------------------------------------------------------------------
def test_history_keys_sort_in_time_order_and_name_the_run() -> None:
    first = store.history_key("acme-neuro", "2026-12-06T09:59:59Z", "r-ffffffffffff")
    second = store.history_key("acme-neuro", "2026-12-06T10:00:00+00:00", "r-000000000000")
    assert first == "history/acme-neuro/20261206T095959Z-r-ffffffffffff.json"
    assert first < second


def test_the_bucket_name_holds_account_and_region_and_us_east_1_takes_no_location() -> None:
    assert store.bucket_name("123456789012", "eu-west-3") == "tenant-toolkit-state-123456789012-eu-west-3"
    assert store.bucket_settings("us-east-1")["create"] == {}
    assert store.bucket_settings("eu-west-3")["create"] == {
        "CreateBucketConfiguration": {"LocationConstraint": "eu-west-3"}
    }


# -- history ------------------------------------------------------------------------------------------
def test_scrub_removes_values_under_secret_keys_at_any_depth() -> None:
    result = {
        "directory": {"name": "corp.example", "admin_password": "Sup3r!secret", "nested": [{"Token": "abc"}]},
        "ClientSecret": "xyz",
        "private_key": "-----BEGIN",
        "credentials": {"user": "svc"},
        "password_length": None,  # nothing to hide
    }
    cleaned = history.scrub(result)
    text = repr(cleaned)
    for secret in ("Sup3r!secret", "abc", "xyz", "BEGIN", "svc"):
        assert secret not in text
    assert cleaned["directory"]["name"] == "corp.example"
    assert cleaned["directory"]["admin_password"] == history.REMOVED


def test_a_changed_task_keeps_its_diff_and_changed_items_but_no_secret() -> None:
    result = {
        "changed": True,
        "diff": {"before": {"desired": 1}, "after": {"desired": 3, "password": "p@ss"}},
        "invocation": {"module_args": {"password": "p@ss"}},
    }
    change = history.change_of(
        "appstream_fleet : Ensure the fleet", "iconeus.tenant_toolkit.appstream_fleet", "appstream_fleet", result
    )
    assert change["diff"]["after"] == {"desired": 3, "password": history.REMOVED}
    assert "invocation" not in repr(change) and "p@ss" not in repr(change)
    looped = history.change_of(
        "Ensure the images are gone",
        "iconeus.tenant_toolkit.appstream_image",
        None,
        {
            "changed": True,
            "results": [{"item": "a", "changed": True, "diff": {"before": 1}}, {"item": "b", "changed": False}],
        },
    )
    assert looped["items"] == ["a"] and looped["diff"] == {"before": 1}


def test_a_censored_result_is_recorded_as_changed_without_its_content() -> None:
    change = history.change_of(
        "Store the secret", "x", None, {"censored": "the output has been hidden", "changed": True}
    )
    assert change == {"task": "Store the secret", "action": "x", "censored": True}


def test_the_recap_decides_whether_a_record_is_a_failure() -> None:
    base = {
        "tenant": "t",
        "run": {"run_id": "r-0123456789ab", "started": "2026-12-06T10:15:03Z", "host": "ctl1"},
        "operator": {"user": "alice", "caller_arn": "arn"},
        "toolkit": {"version": "0.2.0", "commit": "abc", "dirty": False},
        "playbook": {"path": "site.yml", "tags": []},
        "changes": [],
        "ended": "2026-12-06T10:20:00Z",
    }
    rescued = history.record(**base, failures=[{"task": "x", "msg": "boom"}], recap={"failures": 0, "rescued": 1})
    failed = history.record(**base, failures=[{"task": "x", "msg": "boom"}], recap={"failures": 1})
    assert (rescued["status"], failed["status"]) == ("ok", "failed")


def entries(*stamps: str) -> list[dict[str, str]]:
    return [history.parse_key("t", f"history/t/{stamp}-r-0123456789ab.json") for stamp in stamps]


def test_history_lists_newest_first_within_the_dates_asked() -> None:
    found = entries("20261201T080000Z", "20261203T235959Z", "20261204T000000Z", "20261206T101503Z")
    chosen = history.select(found, since="2026-12-03", until="2026-12-04", limit=None)
    assert [e["time"] for e in chosen] == ["2026-12-04T00:00:00Z", "2026-12-03T23:59:59Z"]
    assert [e["time"][:10] for e in history.select(found, None, None, 2)] == ["2026-12-06", "2026-12-04"]


def test_keys_that_are_not_records_of_the_tenant_are_ignored() -> None:
    assert history.parse_key("t", "history/t/notes.txt") is None
    assert history.parse_key("t", "history/tt/20261201T080000Z-r-0123456789ab.json") is None
