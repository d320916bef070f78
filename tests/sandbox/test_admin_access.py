"""Who may drive the sandbox: the admin API's Host and token checks, --allow-remote, the Samba DCs' directory.

The refusals are proved on the sandbox's state, not only on the status: a reset, a time-scale change,
a fault rule or an IAM switch that is refused leaves everything as it was.
"""

from __future__ import annotations

import base64
import http.client
import json
import os
import stat
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

import sandbox.__main__ as sandbox_cli
from sandbox import samba
from sandbox.admin_access import TOKEN_FILE, ensure_token, host_allowed, is_loopback, read_token
from sandbox.client import SandboxClient
from tests.sandboxes import ROOT, free_port, running_sandbox

TIME_SCALE = 0.01


@pytest.fixture(scope="module")
def own(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SandboxClient]:
    """A sandbox of its own: a refusal that failed would reset the shared one under other tests."""
    with running_sandbox(tmp_path_factory.mktemp("admin-access"), TIME_SCALE) as client:
        yield client


@pytest.fixture
def vpc(own: SandboxClient) -> Iterator[str]:
    ec2 = own.boto3("ec2")
    vpc_id = ec2.create_vpc(CidrBlock="10.77.0.0/16")["Vpc"]["VpcId"]
    yield vpc_id
    if vpc_id in vpc_ids(own):
        ec2.delete_vpc(VpcId=vpc_id)


def vpc_ids(client: SandboxClient) -> set[str]:
    return {v["VpcId"] for v in client.boto3("ec2").describe_vpcs()["Vpcs"]}


def admin_request(
    client: SandboxClient, method: str, path: str, headers: dict[str, str], body: dict[str, Any] | None = None
) -> tuple[int, dict[str, Any], dict[str, str]]:
    """An admin call with exactly these headers (http.client sends Host only when not given)."""
    host, port = client.endpoint.removeprefix("http://").rsplit(":", 1)
    connection = http.client.HTTPConnection(host, int(port), timeout=10)
    payload = json.dumps(body).encode() if body is not None else None
    skip_host = "Host" in headers
    try:
        connection.putrequest(method, f"/_sandbox/{path}", skip_host=skip_host, skip_accept_encoding=True)
        for name, value in {**headers, "Content-Length": str(len(payload or b""))}.items():
            connection.putheader(name, value)
        connection.endheaders(payload)
        response = connection.getresponse()
        return response.status, json.loads(response.read() or b"null"), dict(response.getheaders())
    finally:
        connection.close()


def own_host(client: SandboxClient) -> str:
    return client.endpoint.removeprefix("http://")


# -- the token file ---------------------------------------------------------------------------------
def test_the_token_file_is_private_and_random(own: SandboxClient, tmp_path: Path) -> None:
    token_file = own.state_dir / TOKEN_FILE
    info = token_file.lstat()
    assert stat.S_ISREG(info.st_mode)
    assert stat.S_IMODE(info.st_mode) == 0o600
    assert info.st_uid == os.geteuid()
    token = token_file.read_text().strip()
    assert len(token) >= 43  # 32 random bytes, URL-safe base64
    assert ensure_token(tmp_path) != token  # another state dir, another token


def test_a_token_file_others_could_read_is_replaced(tmp_path: Path) -> None:
    first = ensure_token(tmp_path)
    assert ensure_token(tmp_path) == first  # kept while private (sandboxes of one state dir share it)
    (tmp_path / TOKEN_FILE).chmod(0o644)
    assert read_token(tmp_path) is None
    second = ensure_token(tmp_path)
    assert second != first
    assert stat.S_IMODE((tmp_path / TOKEN_FILE).stat().st_mode) == 0o600


def test_a_token_file_that_is_a_link_is_not_trusted(tmp_path: Path) -> None:
    elsewhere = tmp_path / "planted"
    elsewhere.write_text("known-to-someone-else\n")
    elsewhere.chmod(0o600)
    state = tmp_path / "state"
    state.mkdir()
    (state / TOKEN_FILE).symlink_to(elsewhere)
    assert read_token(state) is None
    token = ensure_token(state)
    assert token != "known-to-someone-else"
    assert not (state / TOKEN_FILE).is_symlink()
    assert elsewhere.read_text() == "known-to-someone-else\n"  # written beside, not through, the link


def test_the_client_finds_the_token(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    given, default = tmp_path / "given", tmp_path / "default"
    tokens = {directory.name: ensure_token(directory) for directory in (given, default)}
    monkeypatch.setenv("SANDBOX_TOKEN", "from-the-environment")
    monkeypatch.setenv("SANDBOX_STATE_DIR", str(default))
    assert SandboxClient(token="given").admin_token() == "given"
    # An explicit state dir wins over SANDBOX_TOKEN (a test's own sandbox is not the exported one).
    assert SandboxClient(state_dir=given).admin_token() == tokens["given"]
    assert SandboxClient().admin_token() == "from-the-environment"
    monkeypatch.delenv("SANDBOX_TOKEN")
    assert SandboxClient().admin_token() == tokens["default"]
    assert SandboxClient().state_dir == default


# -- refusals on a running sandbox ----------------------------------------------------------------------
def test_a_reset_without_the_token_is_refused_and_resets_nothing(own: SandboxClient, vpc: str) -> None:
    status, answer, headers = admin_request(own, "POST", "reset", {}, {})
    assert status == 401
    assert "token" in answer["error"]
    assert headers["WWW-Authenticate"].startswith("Basic ")
    assert vpc in vpc_ids(own)


def test_a_wrong_token_is_refused(own: SandboxClient, vpc: str) -> None:
    wrong = {"X-Sandbox-Token": own.admin_token()[:-1] + ("A" if not own.admin_token().endswith("A") else "B")}
    assert admin_request(own, "POST", "reset", wrong, {})[0] == 401
    basic = base64.b64encode(b"sandbox:not-the-token").decode()
    assert admin_request(own, "POST", "reset", {"Authorization": f"Basic {basic}"}, {})[0] == 401
    assert vpc in vpc_ids(own)


@pytest.mark.parametrize(
    "host",
    [
        "rebound.attacker.example:{port}",  # DNS rebinding: a name of theirs resolved to 127.0.0.1
        "127.0.0.1:1",  # another port
        "127.0.0.2:{port}",  # another loopback address than the one served
        "",
    ],
)
def test_a_foreign_host_is_refused_even_with_the_token(own: SandboxClient, vpc: str, host: str) -> None:
    port = own.endpoint.rsplit(":", 1)[1]
    headers = {"Host": host.format(port=port), "X-Sandbox-Token": own.admin_token()}
    status, answer, _ = admin_request(own, "POST", "reset", headers, {})
    assert status == 403
    assert f"127.0.0.1:{port}" in answer["error"]
    assert vpc in vpc_ids(own)


def test_settings_are_not_changed_without_the_token(own: SandboxClient) -> None:
    assert admin_request(own, "PUT", "time-scale", {}, {"time_scale": 5})[0] == 401
    assert admin_request(own, "POST", "faults", {}, {"service": "ec2", "error_rate": 1.0})[0] == 401
    assert admin_request(own, "PUT", "iam-enforcement", {}, {"enabled": True})[0] == 401
    assert admin_request(own, "GET", "log", {})[0] == 401
    assert own.health()["time_scale"] == TIME_SCALE
    assert own.call("GET", "faults")["rules"] == []
    assert own.health()["enforce_iam"] is False


def test_the_token_opens_the_api_by_header_or_basic_password(own: SandboxClient, vpc: str) -> None:
    port = own.endpoint.rsplit(":", 1)[1]
    token = own.admin_token()
    by_header = admin_request(own, "GET", "health", {"X-Sandbox-Token": token})
    assert by_header[0] == 200 and by_header[1]["status"] == "ok"
    basic = base64.b64encode(f"sandbox:{token}".encode()).decode()
    by_basic = admin_request(own, "GET", "health", {"Authorization": f"Basic {basic}", "Host": f"localhost:{port}"})
    assert by_basic[0] == 200 and by_basic[1]["status"] == "ok"
    assert admin_request(own, "POST", "reset", {"X-Sandbox-Token": token, "Host": own_host(own)}, {})[0] == 200
    assert vpc not in vpc_ids(own)


def test_moto_s_own_reset_is_not_served(own: SandboxClient, vpc: str) -> None:
    host, port = own.endpoint.removeprefix("http://").rsplit(":", 1)
    connection = http.client.HTTPConnection(host, int(port), timeout=10)
    try:
        connection.request("POST", "/moto-api/reset")
        assert connection.getresponse().status == 404
    finally:
        connection.close()
    assert vpc in vpc_ids(own)


def test_the_aws_side_needs_no_token(own: SandboxClient) -> None:
    """SDKs sign with SigV4: the AWS API stays as AWS is, without the admin token."""
    client = SandboxClient(port=int(own.endpoint.rsplit(":", 1)[1]), token="not-the-token")
    assert client.boto3("sts").get_caller_identity()["Account"] == "123456789012"
    assert not client.healthy()  # while its admin calls are refused


# -- the Host rule -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("header", "served", "allowed"),
    [
        ("127.0.0.1:4566", ("127.0.0.1", 4566), True),
        ("localhost:4566", ("127.0.0.1", 4566), True),
        ("LOCALHOST:4566", ("127.0.0.1", 4566), True),
        ("[::1]:4566", ("::1", 4566), True),
        ("127.0.0.1:4567", ("127.0.0.1", 4566), False),
        ("127.0.0.1", ("127.0.0.1", 4566), False),  # no port: 80
        ("127.0.0.1", ("127.0.0.1", 80), True),
        ("evil.example:4566", ("127.0.0.1", 4566), False),
        ("127.0.0.1.nip.io:4566", ("127.0.0.1", 4566), False),
        ("::1:4566", ("::1", 4566), False),  # unbracketed IPv6
        ("127.0.0.1:45x6", ("127.0.0.1", 4566), False),
        ("10.0.0.5:4566", ("10.0.0.5", 4566), True),  # --allow-remote on one interface
        ("10.0.0.6:4566", ("10.0.0.5", 4566), False),
        ("10.0.0.6:4566", ("0.0.0.0", 4566), True),  # every interface: any address literal  # noqa: S104
        ("sandbox.lab:4566", ("0.0.0.0", 4566), False),  # but never a name that may be rebound  # noqa: S104
    ],
)
def test_host_rule(header: str, served: tuple[str, int], allowed: bool) -> None:
    assert host_allowed(header, *served) is allowed


# -- --allow-remote ------------------------------------------------------------------------------------
@pytest.mark.parametrize("host", ["0.0.0.0", "192.0.2.10", "sandbox.lab"])  # noqa: S104
def test_the_cli_refuses_a_host_beyond_loopback_without_allow_remote(tmp_path: Path, host: str) -> None:
    port = free_port()
    done = subprocess.run(
        [sys.executable, "-m", "sandbox", "start", "--host", host, "--port", str(port), "--state-dir", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "SANDBOX_SAMBA": "0"},
        check=False,
    )
    assert done.returncode == 2
    assert f"--host {host} is not a loopback address" in done.stderr
    assert "--allow-remote" in done.stderr
    assert not (tmp_path / f"sandbox-{port}.pid").exists()
    assert not SandboxClient(port=port, state_dir=tmp_path).healthy()


def test_allow_remote_starts_with_a_warning(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture) -> None:
    """The flag lets `serve` go on (stubbed here: a test does not open a port to the network), loudly."""
    served: list[tuple[str, int]] = []
    monkeypatch.setattr(sandbox_cli, "serve", lambda args: served.append((args.host, args.port)) or 0)
    assert sandbox_cli.main(["serve", "--host", "0.0.0.0", "--port", "45999", "--allow-remote"]) == 0  # noqa: S104
    assert served == [("0.0.0.0", 45999)]  # noqa: S104
    assert "WARNING" in capsys.readouterr().err
    assert sandbox_cli.main(["serve", "--host", "127.0.0.1", "--port", "45999"]) == 0
    assert sandbox_cli.main(["serve", "--host", "localhost", "--port", "45999"]) == 0
    assert "WARNING" not in capsys.readouterr().err


def test_loopback_names() -> None:
    assert is_loopback("127.0.0.1") and is_loopback("127.3.2.1") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("0.0.0.0") and not is_loopback("::") and not is_loopback("sandbox.lab")  # noqa: S104


# -- where Samba DCs live ------------------------------------------------------------------------------
@pytest.fixture
def dc_parent(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A stand-in for /var/tmp (sticky, world-writable), so that tests leave nothing there."""
    parent = tmp_path / "var-tmp"
    parent.mkdir()
    parent.chmod(0o1777)
    monkeypatch.setattr(samba, "TRAVERSABLE_PARENT", parent)
    return parent


def private_state_dir(tmp_path: Path) -> Path:
    """A state dir below a directory other users cannot traverse, as pytest's and molecule's are."""
    state = tmp_path / "private" / "state"
    state.mkdir(parents=True)
    (tmp_path / "private").chmod(0o700)
    return state


def test_the_dc_root_of_a_private_state_dir_is_a_fresh_private_directory(tmp_path: Path, dc_parent: Path) -> None:
    state = private_state_dir(tmp_path)
    root = samba.samba_root(state)
    assert root.parent == dc_parent
    info = root.lstat()
    assert stat.S_ISDIR(info.st_mode) and info.st_uid == os.geteuid()
    assert stat.S_IMODE(info.st_mode) == 0o711  # smbd (as the user) traverses it; nobody else lists or writes
    assert (state / "samba").readlink() == root
    assert samba.samba_root(state) == root  # found again through the link
    # Not a name derived from the state dir: the same path, made again, gets another directory.
    (state / "samba").unlink()
    assert samba.samba_root(state) != root


def test_by_default_the_dc_root_is_made_by_mkdtemp_in_var_tmp(tmp_path: Path) -> None:
    state = private_state_dir(tmp_path)
    root = samba.samba_root(state)
    try:
        assert root.parent == Path("/var/tmp")  # noqa: S108
        assert root.name.startswith(samba.TRAVERSABLE_PREFIX) and len(root.name) > len(samba.TRAVERSABLE_PREFIX)
        assert root.stat().st_uid == os.geteuid()
        assert stat.S_IMODE(root.stat().st_mode) == 0o711
    finally:
        root.rmdir()


@pytest.mark.parametrize("planted", ["world-writable", "symlink", "elsewhere"])
def test_a_link_to_a_directory_others_control_is_replaced(tmp_path: Path, dc_parent: Path, planted: str) -> None:
    """A cleaner removed our directory and someone made one at its name (or a link): it is not used."""
    state = private_state_dir(tmp_path)
    victim = tmp_path / "victim"
    victim.mkdir()
    (victim / "keep").mkdir()
    target = dc_parent / f"{samba.TRAVERSABLE_PREFIX}planted"
    if planted == "world-writable":
        target.mkdir()
        target.chmod(0o777)
    elif planted == "symlink":
        target.symlink_to(victim, target_is_directory=True)
    else:
        target = victim
    (state / "samba").symlink_to(target, target_is_directory=True)
    root = samba.samba_root(state)
    assert root not in (target, victim)
    assert stat.S_IMODE(root.stat().st_mode) == 0o711
    samba.SambaDcProvider(state, stop_on_exit=False).destroy_all()
    assert (victim / "keep").is_dir()


def test_a_traversable_state_dir_keeps_its_dcs_inside() -> None:
    # Under /var/tmp, made 0755: every directory above lets others through.
    state = Path(tempfile.mkdtemp(prefix="sandbox-state-", dir="/var/tmp"))
    try:
        state.chmod(0o755)
        assert samba.samba_root(state) == state.resolve() / "samba"
        assert not (state / "samba").is_symlink()
    finally:
        state.rmdir()


# -- the playbooks' side ---------------------------------------------------------------------------------
def uri_tasks(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        if isinstance(node.get("ansible.builtin.uri"), dict):
            yield node["ansible.builtin.uri"]
        for value in node.values():
            yield from uri_tasks(value)
    elif isinstance(node, list):
        for value in node:
            yield from uri_tasks(value)


def admin_calls() -> dict[str, list[dict[str, Any]]]:
    """Every ansible.builtin.uri call of the admin API in the project's playbooks, roles and scenarios."""
    files = [ROOT / "site.yml", *ROOT.glob("playbooks/**/*.yml"), *ROOT.glob("roles/**/*.yml")]
    files += [*ROOT.glob("molecule/**/*.yml"), *ROOT.glob("bench/playbooks/**/*.yml")]
    found: dict[str, list[dict[str, Any]]] = {}
    for path in files:
        calls = [task for task in uri_tasks(yaml.safe_load(path.read_text())) if "/_sandbox/" in str(task.get("url"))]
        if calls:
            found[str(path.relative_to(ROOT))] = calls
    return found


def test_every_admin_call_of_the_playbooks_sends_the_token_as_a_secret() -> None:
    """url_password is no_log in ansible.builtin.uri: the token is masked in every output (a header is not)."""
    calls = admin_calls()
    assert {"playbooks/tasks/image_start_builder.yml", "molecule/default/converge.yml"} <= set(calls)
    # The directory stages' calls: in site.yml, or in the sandbox-only task file they move to.
    assert {"site.yml", "playbooks/tasks/sandbox.yml"} & set(calls)
    for path, tasks in calls.items():
        for task in tasks:
            assert task.get("force_basic_auth") is True, (path, task["url"])
            assert task.get("url_password") in ("{{ sandbox_admin_token }}", "{{ molecule_sandbox_token }}"), path
            assert "X-Sandbox-Token" not in json.dumps(task.get("headers", {})), path


def lookup_texts(node: Any) -> Iterator[str]:
    """Every string of a playbook that calls the sandbox_health lookup."""
    if isinstance(node, dict):
        for value in node.values():
            yield from lookup_texts(value)
    elif isinstance(node, list):
        for value in node:
            yield from lookup_texts(value)
    elif isinstance(node, str) and "sandbox_health" in node:
        yield node


def test_the_health_lookup_is_given_the_token_of_the_playbooks() -> None:
    """As the uri calls above: the token is the variable the playbooks read it into, never written out."""
    files = [ROOT / "site.yml", *ROOT.glob("playbooks/**/*.yml"), *ROOT.glob("roles/**/*.yml")]
    files += [*ROOT.glob("molecule/**/*.yml"), *ROOT.glob("bench/playbooks/**/*.yml")]
    calls = {str(path.relative_to(ROOT)): list(lookup_texts(yaml.safe_load(path.read_text()))) for path in files}
    calls = {path: texts for path, texts in calls.items() if texts}
    assert set(calls) == {"playbooks/tasks/sandbox.yml"}, calls
    assert any("lookup(" in text for texts in calls.values() for text in texts), calls
    for texts in calls.values():
        for text in texts:
            if "lookup(" in text:
                assert "iconeus.tenant_toolkit.sandbox_health" in text and "token=sandbox_admin_token)" in text, text


@pytest.mark.parametrize("given", ["variable", "environment"])
def test_the_playbook_variable_reads_the_token_and_no_output_shows_it(
    own: SandboxClient, tmp_path: Path, given: str
) -> None:
    """sandbox_admin_token (group_vars/tenants/sandbox.yml) opens the admin API; -vvv does not show it."""
    playbook = tmp_path / "admin-call.yml"
    call = {
        "url": f"{own.endpoint}/_sandbox/health",
        "return_content": True,
        "url_username": "sandbox",
        "url_password": "{{ sandbox_admin_token }}",
        "force_basic_auth": True,
    }
    play = {
        "name": "Call the admin API as the playbooks do",
        "hosts": "localhost",
        "gather_facts": False,
        "vars_files": [str(ROOT / "group_vars" / "tenants" / "sandbox.yml")],
        "tasks": [
            {"name": "Ask the sandbox's health", "ansible.builtin.uri": call, "register": "health"},
            {"name": "Show it", "ansible.builtin.debug": {"var": "health"}},
            {"name": "It answered", "ansible.builtin.assert": {"that": "health.json.status == 'ok'"}},
        ],
    }
    playbook.write_text(yaml.safe_dump([play], sort_keys=False))
    command = [str(Path(sys.executable).parent / "ansible-playbook"), str(playbook), "-vvv"]
    environment = {**os.environ, "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"), "ANSIBLE_NOCOLOR": "1"}
    environment.pop("SANDBOX_STATE_DIR", None)
    if given == "variable":
        command += ["-e", f"sandbox_state_dir={own.state_dir}"]
    else:  # as a sandbox started by hand with SANDBOX_STATE_DIR is reached (tests/conftest.py SANDBOX_PORT)
        environment["SANDBOX_STATE_DIR"] = str(own.state_dir)
    done = subprocess.run(command, cwd=ROOT, env=environment, capture_output=True, text=True, check=False, timeout=300)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert '"status": "ok"' in done.stdout
    token = own.admin_token()
    assert token and token not in done.stdout and token not in done.stderr
    assert base64.b64encode(f"sandbox:{token}".encode()).decode() not in done.stdout + done.stderr


def test_the_health_lookup_reads_the_token_of_the_playbooks_and_no_output_shows_it(
    own: SandboxClient, tmp_path: Path
) -> None:
    """tasks/sandbox.yml's lookup, run as the playbooks run it at -vvv: it answers, and the token is nowhere."""
    playbook = tmp_path / "health.yml"
    play = {
        "name": "Ask the sandbox's health as tasks/sandbox.yml does",
        "hosts": "localhost",
        "gather_facts": False,
        "vars_files": [str(ROOT / "group_vars" / "tenants" / "sandbox.yml")],
        "vars": {"aws_endpoint_url": own.endpoint},
        "tasks": [
            {
                "name": "Ask",
                "ansible.builtin.set_fact": {
                    "health": "{{ lookup('iconeus.tenant_toolkit.sandbox_health', aws_endpoint_url,"
                    " token=sandbox_admin_token) }}"
                },
            },
            {"name": "Show it", "ansible.builtin.debug": {"var": "health"}},
            {"name": "It answered", "ansible.builtin.assert": {"that": "health.status == 'ok' and 'samba' in health"}},
        ],
    }
    playbook.write_text(yaml.safe_dump([play], sort_keys=False))
    command = [str(Path(sys.executable).parent / "ansible-playbook"), str(playbook), "-vvv"]
    environment = {**os.environ, "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"), "ANSIBLE_NOCOLOR": "1"}
    environment["SANDBOX_STATE_DIR"] = str(own.state_dir)
    done = subprocess.run(command, cwd=ROOT, env=environment, capture_output=True, text=True, check=False, timeout=300)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    token = own.admin_token()
    assert token and token not in done.stdout and token not in done.stderr
    assert base64.b64encode(f"sandbox:{token}".encode()).decode() not in done.stdout + done.stderr
