"""The tenant_state callback: the run id, following the run's locks, history records and the plan file."""

from __future__ import annotations

import gc
import json
import os
import sys
from pathlib import Path
from types import ModuleType, SimpleNamespace
from typing import Any

import pytest
from ansible.plugins.loader import callback_loader, lookup_loader
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.aws import credentials_file
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.state import run

from ..forking import in_a_forked_child


def _load(loader: Any, name: str) -> ModuleType:
    plugin = loader.get(name, class_only=True)
    assert plugin is not None, f"{name} did not load"
    return sys.modules[plugin.__module__]


ts = _load(callback_loader, "iconeus.tenant_toolkit.tenant_state")
run_id_lookup = _load(lookup_loader, "iconeus.tenant_toolkit.run_id")


class FakeDisplay:
    verbosity = 0

    def __init__(self) -> None:
        self.warnings: list[str] = []
        self.displayed: list[str] = []

    def warning(self, msg: str, **_kwargs: Any) -> None:
        self.warnings.append(msg)

    def display(self, msg: str, **_kwargs: Any) -> None:
        self.displayed.append(msg)

    def v(self, msg: str, **_kwargs: Any) -> None:
        pass

    vv = vvv = v


class FakeDynamoDB:
    """Records the lock calls; `holder` is the run id the table holds (None: no lock)."""

    def __init__(self, holder: str | None) -> None:
        self.holder = holder
        self.calls: list[str] = []

    def _check(self, kwargs: dict[str, Any]) -> None:
        if kwargs["ExpressionAttributeValues"][":me"]["S"] != self.holder:
            error = Exception("ConditionalCheckFailedException")
            error.response = {"Error": {"Code": "ConditionalCheckFailedException"}}  # type: ignore[attr-defined]
            raise error

    def update_item(self, **kwargs: Any) -> None:
        self.calls.append("UpdateItem")
        self._check(kwargs)

    def delete_item(self, **kwargs: Any) -> None:
        self.calls.append("DeleteItem")
        self._check(kwargs)
        self.holder = None

    def get_item(self, **_kwargs: Any) -> dict[str, Any]:
        return {"Item": {"run_id": {"S": self.holder}}} if self.holder else {}


class FakeSts:
    def get_caller_identity(self) -> dict[str, str]:
        return {"Account": "123456789012", "Arn": "arn:aws:iam::123456789012:user/alice"}


class FakeS3:
    def __init__(self) -> None:
        self.objects: dict[str, bytes] = {}

    def put_object(self, Bucket: str, Key: str, Body: bytes, **_kwargs: Any) -> None:
        self.objects[f"{Bucket}/{Key}"] = Body


def task(name: str, action: str, role: str | None = None) -> SimpleNamespace:
    role_object = SimpleNamespace(get_name=lambda: role) if role else None
    return SimpleNamespace(get_name=lambda: name, resolved_action=action, action=action, _role=role_object)


def result(host: str, the_task: SimpleNamespace, outcome: dict[str, Any]) -> SimpleNamespace:
    return SimpleNamespace(task=the_task, host=SimpleNamespace(get_name=lambda: host), _result=outcome)


class FakeStats:
    def __init__(self, recaps: dict[str, dict[str, int]]) -> None:
        self.recaps = recaps
        self.processed = dict.fromkeys(recaps, 1)

    def summarize(self, host: str) -> dict[str, int]:
        return self.recaps[host]


@pytest.fixture
def callback(monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv(run.RUN_ID_ENV, "r-000000000000")  # as if set in the shell: overwritten
    plugin = ts.CallbackModule(display=FakeDisplay())
    plugin._load_name = ts.CallbackModule._load_name
    plugin.set_options(direct={})
    plugin.playbook_path = "site.yml"
    yield plugin
    plugin.stop_renewing()
    plugin.locks = {}


def hold(
    plugin: Any,
    host: str,
    dynamodb: FakeDynamoDB | None = None,
    s3: FakeS3 | None = None,
    lease: int = 300,
    connection: Any = None,
) -> None:
    """A lock the run holds, with the clients given, or with a connection that makes them when first used."""
    clients = {"dynamodb": dynamodb, "s3": s3, "sts": FakeSts()} if connection is None else {}
    plugin.locks[host] = ts.HeldLock(
        host=host,
        tenant=host,
        table="tenant-toolkit-state",
        bucket=None,
        region="eu-west-3",
        lease_seconds=lease,
        connection=connection,
        **clients,
    )


def test_the_run_id_is_made_at_start_and_exported_over_any_inherited_value(callback: Any) -> None:
    assert run.is_run_id(callback.run_id) and callback.run_id != "r-000000000000"
    assert os.environ[run.RUN_ID_ENV] == callback.run_id
    assert os.environ[run.RUN_PID_ENV] == str(os.getpid())


def test_the_lookup_accepts_only_the_id_its_own_controller_exported() -> None:
    environ = {run.RUN_ID_ENV: "r-0123456789ab", run.RUN_PID_ENV: "100"}
    assert run_id_lookup.run_of_this_process(environ, pid=200, parent=100) == ("r-0123456789ab", 100)
    assert run_id_lookup.run_of_this_process(environ, pid=100, parent=1) == ("r-0123456789ab", 100)
    with pytest.raises(Exception, match="was not made by this run's controller"):
        run_id_lookup.run_of_this_process(environ, pid=200, parent=150)
    with pytest.raises(Exception, match="callback is not enabled"):
        run_id_lookup.run_of_this_process({}, pid=200, parent=100)


def test_a_lock_taken_by_this_run_is_followed_and_one_of_another_run_is_not(callback: Any, monkeypatch: Any) -> None:
    monkeypatch.setattr(callback, "start_renewing", lambda: None)
    monkeypatch.setattr(callback, "task_environment", lambda _result: {})
    info = {"tenant": "a", "table": "t", "bucket": "b", "region": "eu-west-3", "lease_seconds": 60, "held": True}
    lock_task = task("Ensure this run holds the tenant's lock", "iconeus.tenant_toolkit.tenant_lock")
    callback.v2_runner_on_ok(result("a", lock_task, {"lock": {**info, "run_id": callback.run_id}, "changed": False}))
    callback.v2_runner_on_ok(result("b", lock_task, {"lock": {**info, "tenant": "b", "run_id": "r-ffffffffffff"}}))
    assert list(callback.locks) == ["a"] and callback.locks["a"].lease_seconds == 60
    assert callback.records == {}  # the lock is bookkeeping, not a change of the tenant


def test_a_lock_taken_after_waiting_says_which_run_it_waited_for(callback: Any, monkeypatch: Any) -> None:
    monkeypatch.setattr(callback, "start_renewing", lambda: None)
    monkeypatch.setattr(callback, "task_environment", lambda _result: {})
    info = {"tenant": "a", "table": "t", "region": "eu-west-3", "held": True, "run_id": callback.run_id}
    lock_task = task("Ensure this run holds the tenant's lock", "iconeus.tenant_toolkit.tenant_lock")
    waited = f"run {callback.run_id} holds the lock of a after waiting 12.4 s for run r-ffffffffffff"
    callback.v2_runner_on_ok(result("a", lock_task, {"lock": {**info, "waited_for": "r-ffffffffffff"}, "msg": waited}))
    callback.v2_runner_on_ok(
        result("b", lock_task, {"lock": {**info, "tenant": "b", "waited_for": None}, "msg": "tenant b locked"})
    )
    assert callback._display.displayed == [f"[a] {waited}"]  # said once, for the tenant that waited only
    assert sorted(callback.locks) == ["a", "b"]


def test_the_end_of_the_playbook_writes_the_history_of_changed_tenants_and_releases_every_lock(
    callback: Any, tmp_path: Path, monkeypatch: Any
) -> None:
    monkeypatch.setattr(ts, "toolkit_version", lambda: {"version": "0.2.0", "commit": "abc123", "dirty": False})
    changed_db, quiet_db, s3 = FakeDynamoDB(callback.run_id), FakeDynamoDB(callback.run_id), FakeS3()
    hold(callback, "changed", changed_db, s3)
    hold(callback, "quiet", quiet_db, s3)
    fleet = task("appstream_fleet : Ensure the fleet", "iconeus.tenant_toolkit.appstream_fleet", "appstream_fleet")
    diff = {"before": {"max": 2}, "after": {"max": 4}}
    callback.v2_runner_on_ok(result("changed", fleet, {"changed": True, "diff": diff}))
    callback.v2_runner_on_ok(
        result("changed", task("Store a secret", "x"), {"changed": True, "censored": "hidden by no_log"})
    )
    callback.v2_runner_on_ok(result("quiet", fleet, {"changed": False}))
    callback.v2_runner_on_failed(result("changed", task("Start the fleet", "y"), {"msg": "no capacity"}))
    callback.v2_playbook_on_stats(FakeStats({"changed": {"changed": 2, "failures": 1}, "quiet": {"changed": 0}}))

    (key,) = list(s3.objects)
    assert key.startswith("tenant-toolkit-state-123456789012-eu-west-3/history/changed/")
    assert key.endswith(f"-{callback.run_id}.json")
    record = json.loads(s3.objects[key])
    assert record["status"] == "failed" and record["run_id"] == callback.run_id
    assert record["changes"][0] == {
        "task": "appstream_fleet : Ensure the fleet",
        "action": "iconeus.tenant_toolkit.appstream_fleet",
        "role": "appstream_fleet",
        "diff": diff,
    }
    assert record["changes"][1]["censored"] is True and "hidden" not in json.dumps(record["changes"][1])
    assert record["failures"] == [{"task": "Start the fleet", "action": "y", "msg": "no capacity"}]
    assert record["operator"]["caller_arn"] == "arn:aws:iam::123456789012:user/alice"
    assert record["toolkit"] == {"version": "0.2.0", "commit": "abc123", "dirty": False}
    assert record["playbook"]["path"] == "site.yml" and record["recap"] == {"changed": 2, "failures": 1}
    assert changed_db.holder is None and quiet_db.holder is None  # both released, the quiet one without a record
    assert callback.locks == {}


class FakeConnection:
    """A StateConnection whose clients are fakes; `broken` services cannot be made."""

    def __init__(self, dynamodb: FakeDynamoDB, broken: tuple[str, ...] = ()) -> None:
        self.made: list[str] = []
        self.broken = broken
        self.clients = {"dynamodb": dynamodb, "s3": FakeS3(), "sts": FakeSts()}

    def client(self, service: str) -> Any:
        if service in self.broken:
            raise RuntimeError(f"cannot make the {service} client")
        self.made.append(service)
        return self.clients[service]


def test_the_history_clients_are_made_only_for_a_changed_tenant(callback: Any, monkeypatch: Any) -> None:
    monkeypatch.setattr(ts, "toolkit_version", lambda: {"version": "0.2.0", "commit": "abc123", "dirty": False})
    changed = FakeConnection(FakeDynamoDB(callback.run_id))
    quiet = FakeConnection(FakeDynamoDB(callback.run_id))
    hold(callback, "changed", connection=changed)
    hold(callback, "quiet", connection=quiet)
    fleet = task("appstream_fleet : Ensure the fleet", "iconeus.tenant_toolkit.appstream_fleet", "appstream_fleet")
    callback.v2_runner_on_ok(result("changed", fleet, {"changed": True}))
    callback.renew_all()
    callback.v2_playbook_on_stats(FakeStats({"changed": {"changed": 1}, "quiet": {"changed": 0}}))
    assert quiet.made == ["dynamodb"]  # renewed and released (the lock keeps the client); no S3 or STS client
    assert changed.made == ["dynamodb", "sts", "s3"]  # the client is kept by the lock once made
    assert len(changed.clients["s3"].objects) == 1
    assert changed.clients["dynamodb"].holder is None and quiet.clients["dynamodb"].holder is None


def test_a_history_client_that_cannot_be_made_is_said_and_the_lock_still_released(
    callback: Any, monkeypatch: Any
) -> None:
    monkeypatch.setattr(ts, "toolkit_version", lambda: {"version": "0.2.0", "commit": "abc123", "dirty": False})
    for broken in ("sts", "s3"):
        connection = FakeConnection(FakeDynamoDB(callback.run_id), broken=(broken,))
        hold(callback, "a", connection=connection)
        fleet = task("appstream_fleet : Ensure the fleet", "iconeus.tenant_toolkit.appstream_fleet")
        callback.v2_runner_on_ok(result("a", fleet, {"changed": True}))
        callback.v2_playbook_on_stats(FakeStats({"a": {"changed": 1}}))
        assert any(
            f"history record of a was not written (cannot make the {broken} client)" in warning
            for warning in callback._display.warnings
        ), callback._display.warnings
        assert connection.clients["dynamodb"].holder is None and callback.locks == {}


def test_a_lock_lost_to_another_run_is_reported_and_not_released(callback: Any) -> None:
    taken = FakeDynamoDB("r-ffffffffffff")  # the lease ran out and another run took the tenant
    hold(callback, "a", taken, FakeS3())
    callback.renew_all()
    assert callback.locks["a"].lost_to == "r-ffffffffffff"
    assert any("LOST the lock of tenant a" in w and "r-ffffffffffff" in w for w in callback._display.warnings)
    callback.release_all()
    assert taken.calls == ["UpdateItem"] and taken.holder == "r-ffffffffffff"


def test_renewing_pushes_the_lease_of_each_held_lock(callback: Any) -> None:
    mine = FakeDynamoDB(callback.run_id)
    hold(callback, "a", mine, FakeS3(), lease=30)
    assert callback.renew_interval() == 10
    callback.renew_all()
    assert mine.calls == ["UpdateItem"] and callback.locks["a"].lost_to is None


def test_the_plan_file_holds_every_host_s_changes_and_failures(callback: Any, tmp_path: Path) -> None:
    plan = tmp_path / "plan.json"
    callback.set_options(direct={"plan_file": str(plan)})
    fleet = task("Ensure the fleet", "iconeus.tenant_toolkit.appstream_fleet")
    callback.v2_runner_on_ok(result("a", fleet, {"changed": True, "diff": {"before": {"x": 1}, "after": {"x": 2}}}))
    callback.v2_runner_on_failed(result("b", fleet, {"msg": "AccessDenied"}))
    callback.v2_playbook_on_stats(FakeStats({"a": {"changed": 1}, "b": {"failures": 1}, "c": {"ok": 3}}))
    document = json.loads(plan.read_text())
    assert document["run_id"] == callback.run_id
    assert document["hosts"]["a"]["changes"][0]["diff"] == {"before": {"x": 1}, "after": {"x": 2}}
    assert document["hosts"]["b"]["failures"][0]["msg"] == "AccessDenied"
    assert document["hosts"]["c"] == {"changes": [], "failures": [], "unreachable": [], "recap": {"ok": 3}}


def test_renewal_and_release_use_the_credentials_and_endpoint_of_the_task() -> None:
    keys = {"AWS_ACCESS_KEY_ID": "AK", "AWS_SECRET_ACCESS_KEY": "SK", "AWS_PROFILE": "ignored", "AWS_REGION": "x"}
    settings = ts.connection_settings(keys, "eu-west-3", "http://127.0.0.1:4566")
    assert settings["session"] == {"region_name": "eu-west-3", "aws_access_key_id": "AK", "aws_secret_access_key": "SK"}
    assert settings["endpoint_url"] == "http://127.0.0.1:4566"
    assert settings["files"] == {}
    profile = ts.connection_settings({"AWS_PROFILE": "acme", "AWS_ENDPOINT_URL": "http://e"}, None, None)
    assert profile == {
        "session": {"region_name": None, "profile_name": "acme"},
        "files": {},
        "endpoint_url": "http://e",
    }


def test_a_profile_of_a_credentials_file_of_its_own_is_read_from_that_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # What the tenant_session and tenant_credentials lookups hand the modules: blank keys, a profile and the
    # file holding it, which this process's own environment does not name.
    monkeypatch.delenv("AWS_SHARED_CREDENTIALS_FILE", raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "CONTROLLER")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "CONTROLLER-SECRET")
    credentials = tmp_path / "t.credentials"
    credentials.write_text("[tenant-keys-t]\naws_access_key_id = AKFILE\naws_secret_access_key = SKFILE\n")
    environment = {
        "AWS_SHARED_CREDENTIALS_FILE": str(credentials),
        "AWS_PROFILE": "tenant-keys-t",
        "AWS_ACCESS_KEY_ID": "",
        "AWS_SECRET_ACCESS_KEY": "",
        "AWS_REGION": "eu-west-3",
    }
    settings = ts.connection_settings(environment, None, None)
    assert settings["files"] == {"credentials_file": str(credentials)}
    found = ts.boto3_session(settings).get_credentials()
    assert (found.access_key, found.secret_key) == ("AKFILE", "SKFILE")


def test_the_end_of_the_playbook_removes_the_run_files_after_releasing_the_locks(
    callback: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(credentials_file.RUN_FILES_ENV, str(tmp_path))
    directory = credentials_file.run_files_directory(callback.run_id)
    credentials_file.write_private(directory / "a.credentials", "[x]\n")
    other_run = credentials_file.run_files_directory("r-ffffffffffff")
    dynamodb = FakeDynamoDB(callback.run_id)
    seen_at_release: list[bool] = []
    release = dynamodb.delete_item

    def delete_item(**kwargs: Any) -> None:
        seen_at_release.append(directory.exists())
        release(**kwargs)

    dynamodb.delete_item = delete_item  # type: ignore[method-assign]
    hold(callback, "a", dynamodb, FakeS3())
    callback.v2_playbook_on_stats(FakeStats({"a": {"ok": 1}}))
    assert seen_at_release == [True]
    assert not directory.exists() and other_run.exists()


def test_the_tenants_sessions_share_one_data_loader_and_keep_their_own_credentials() -> None:
    # A botocore session parses and keeps its own copy of every model it uses: one per tenant in the
    # controller's main process, carried by every forked worker. The run's sessions share one loader instead.
    first = ts.connection_settings({"AWS_ACCESS_KEY_ID": "AK1", "AWS_SECRET_ACCESS_KEY": "SK1"}, "eu-west-3", None)
    second = ts.connection_settings({"AWS_ACCESS_KEY_ID": "AK2", "AWS_SECRET_ACCESS_KEY": "SK2"}, "eu-west-3", None)
    loader = ts.shared_data_loader()
    one = ts.boto3_session(first, loader).client("dynamodb")
    two = ts.boto3_session(second, loader).client("dynamodb")
    apart = ts.boto3_session(first).client("dynamodb")
    shared = one.meta.service_model._service_description
    assert two.meta.service_model._service_description is shared
    assert apart.meta.service_model._service_description is not shared  # without the loader: a copy of its own
    assert one._request_signer._credentials.access_key == "AK1"
    assert two._request_signer._credentials.access_key == "AK2"


def test_the_callback_makes_one_loader_for_all_its_locks(callback: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(callback, "start_renewing", lambda: None)
    # Each tenant its own keys: a session each.
    keys = {host: {"AWS_ACCESS_KEY_ID": f"A{host}", "AWS_SECRET_ACCESS_KEY": "S"} for host in ("a", "b")}
    monkeypatch.setattr(callback, "task_environment", lambda result: keys[result.host.get_name()])
    made: list[Any] = []
    real_loader = ts.shared_data_loader
    monkeypatch.setattr(ts, "shared_data_loader", lambda: made.append(real_loader()) or made[-1])
    seen: list[Any] = []
    real = ts.boto3_session
    monkeypatch.setattr(ts, "boto3_session", lambda conf, loader=None: seen.append(loader) or real(conf, loader))
    preloaded: list[Any] = []
    monkeypatch.setattr(ts.botocore_models, "_LOADERS", {})  # this test's own, not the process's for later tests
    real_preload = ts.botocore_models.preload
    monkeypatch.setattr(
        ts.botocore_models, "preload", lambda: preloaded.append(real_preload(("dynamodb",))) or (preloaded[-1])
    )
    plugins_loaded: list[bool] = []
    monkeypatch.setattr(ts.plugin_preload, "preload", lambda: plugins_loaded.append(True) or [])
    info = {"table": "t", "bucket": "b", "region": "eu-west-3", "lease_seconds": 60, "held": True}
    lock_task = task("Ensure this run holds the tenant's lock", "iconeus.tenant_toolkit.tenant_lock")
    for host in ("a", "b"):
        callback.v2_runner_on_ok(result(host, lock_task, {"lock": {**info, "tenant": host, "run_id": callback.run_id}}))
    assert sorted(callback.locks) == ["a", "b"]
    assert len(made) == 1 and seen == [made[0], made[0]]
    # The modules' models are read once, into that loader, for the workers forked after the lock.
    # Nothing saw the lock task start here: the first lock's result loads them (once).
    assert preloaded == [(made[0], [])] and plugins_loaded == [True]
    assert callback.locks["a"].client("dynamodb").meta.service_model._service_description is (
        callback.locks["b"].client("dynamodb").meta.service_model._service_description
    )
    assert callback.locks["a"].client("dynamodb")._request_signer._credentials.access_key == "Aa"
    assert callback.locks["b"].client("dynamodb")._request_signer._credentials.access_key == "Ab"
    assert len(made[0].search_paths) == len(set(made[0].search_paths))  # boto3's data folder once, not per tenant


def test_locks_with_the_same_connection_share_it_and_a_no_op_run_makes_only_dynamodb(
    callback: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(callback, "start_renewing", lambda: None)
    monkeypatch.setattr(ts, "preload_for_workers", lambda _display: None)
    shared = {"AWS_ACCESS_KEY_ID": "AK", "AWS_SECRET_ACCESS_KEY": "SK"}
    own = {"AWS_ACCESS_KEY_ID": "AKC", "AWS_SECRET_ACCESS_KEY": "SKC"}
    environments = {"a": shared, "b": dict(shared), "c": own}
    monkeypatch.setattr(callback, "task_environment", lambda result: environments[result.host.get_name()])
    sessions: list[Any] = []
    real = ts.boto3_session
    monkeypatch.setattr(ts, "boto3_session", lambda conf, loader=None: sessions.append(conf) or real(conf, loader))
    info = {"table": "t", "bucket": "b", "region": "eu-west-3", "lease_seconds": 60, "held": True}
    lock_task = task("Ensure this run holds the tenant's lock", "iconeus.tenant_toolkit.tenant_lock")
    for host in ("a", "b", "c"):
        callback.v2_runner_on_ok(result(host, lock_task, {"lock": {**info, "tenant": host, "run_id": callback.run_id}}))
    locks = callback.locks
    # One session and one DynamoDB client (renewing, releasing) per set of settings, made when the lock is
    # taken; S3 and STS (the history of a changed tenant) are not made in a run that changes nothing.
    assert [conf["session"]["aws_access_key_id"] for conf in sessions] == ["AK", "AKC"]
    assert locks["a"].connection is locks["b"].connection is not locks["c"].connection
    dynamodb = locks["a"].client("dynamodb")
    assert locks["b"].client("dynamodb") is dynamodb and locks["c"].client("dynamodb") is not dynamodb
    assert dynamodb._request_signer._credentials.access_key == "AK"
    assert locks["c"].client("dynamodb")._request_signer._credentials.access_key == "AKC"
    assert sorted(locks["a"].connection.clients) == ["dynamodb"] and sorted(locks["c"].connection.clients) == [
        "dynamodb"
    ]


def test_a_connection_that_cannot_be_made_is_said_when_the_lock_is_taken(
    callback: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(callback, "start_renewing", lambda: None)
    monkeypatch.setattr(ts, "preload_for_workers", lambda _display: None)
    monkeypatch.setattr(callback, "task_environment", lambda _result: {"AWS_PROFILE": "no-such-profile-anywhere"})
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent/config")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/credentials")
    info = {"table": "t", "bucket": "b", "region": "eu-west-3", "lease_seconds": 60, "held": True}
    lock_task = task("Ensure this run holds the tenant's lock", "iconeus.tenant_toolkit.tenant_lock")
    callback.v2_runner_on_ok(result("a", lock_task, {"lock": {**info, "tenant": "a", "run_id": callback.run_id}}))
    assert any("cannot renew the lock of a" in warning for warning in callback._display.warnings)
    assert callback.locks["a"].connection is None and callback.locks["a"].client("dynamodb") is None


def test_plugins_modules_and_models_are_loaded_once_when_the_first_lock_task_starts(
    callback: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(ts.PLAYBOOK_ENV, "")  # v2_playbook_on_start sets it: put back after the test
    loaded: list[str] = []
    monkeypatch.setattr(ts.plugin_preload, "preload", lambda: loaded.append("plugins") or [])
    monkeypatch.setattr(ts.botocore_models, "preload", lambda: loaded.append("models") or (None, []))
    callback.v2_playbook_on_start(SimpleNamespace(_file_name="site.yml"))
    callback.v2_playbook_on_task_start(task("Validate", "iconeus.tenant_toolkit.tenant_validate"), False)
    assert loaded == []  # a run that takes no lock imports no AWS library (tests/unit/test_controller_startup.py)
    lock_task = task("Ensure this run holds the tenant's lock", "iconeus.tenant_toolkit.tenant_lock")
    # As the main process sees it before the worker's post-validation: meta/runtime.yml routes the module to
    # in_worker, and the resolved action is the action plugin's name.
    lock_task.resolved_action = lock_task._resolved_action = "iconeus.tenant_toolkit.in_worker"
    callback.v2_playbook_on_task_start(lock_task, False)
    assert loaded == ["plugins", "models"]
    callback.v2_playbook_on_task_start(lock_task, False)  # the lock task of a later stage of the same run
    assert loaded == ["plugins", "models"]


def test_a_failed_preload_is_said_at_verbose_level_and_the_run_goes_on(
    callback: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    said: list[str] = []
    monkeypatch.setattr(callback._display, "v", said.append)
    monkeypatch.setattr(ts.plugin_preload, "preload", lambda: ["iconeus.tenant_toolkit.known_tags"])

    def broken() -> Any:
        raise RuntimeError("no botocore")

    monkeypatch.setattr(ts.botocore_models, "preload", broken)
    lock_task = task("Ensure this run holds the tenant's lock", "iconeus.tenant_toolkit.tenant_lock")
    callback.v2_playbook_on_task_start(lock_task, False)  # does not raise
    assert said == [
        "tenant_state: plugins not loaded ahead for the workers: iconeus.tenant_toolkit.known_tags",
        "tenant_state: botocore models not read ahead for the workers: all (no botocore)",
    ]
    assert callback._display.warnings == []


def test_the_callback_registers_the_freeze_of_what_forked_workers_inherit_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    registered: list[Any] = []
    monkeypatch.setattr(ts, "_FREEZE_REGISTERED", set())
    monkeypatch.setattr(ts.os, "register_at_fork", lambda **hooks: registered.append(hooks))
    for _attempt in range(2):
        plugin = ts.CallbackModule(display=FakeDisplay())
        plugin.stop_renewing()
    assert registered == [{"after_in_child": gc.freeze}]


def test_a_process_forked_after_the_registration_freezes_what_it_inherits(callback: Any) -> None:
    # The controller forks a worker per task and host; the worker's collector must not visit (and so copy)
    # the controller's heap.
    ts.freeze_inherited_objects_in_workers()
    # The child reports how many objects it holds frozen.
    frozen = int(in_a_forked_child(lambda: str(gc.get_freeze_count())) or "0")
    assert frozen > 1000  # the test process's own objects, inherited
    assert gc.get_freeze_count() == 0  # the parent collects as before


def test_the_read_ahead_fires_on_the_lock_task_as_ansible_parses_it(
    callback: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A real Task, as the main process holds it when the task starts (not post-validated by a worker)."""
    from ansible.parsing.dataloader import DataLoader
    from ansible.playbook.task import Task

    loaded: list[str] = []
    monkeypatch.setattr(ts, "preload_for_workers", lambda _display: loaded.append("all"))
    parsed = Task.load({"name": "Lock", "iconeus.tenant_toolkit.tenant_lock": {"tenant": "demo"}}, loader=DataLoader())
    callback.v2_playbook_on_task_start(parsed, False)
    assert loaded == ["all"]
