"""Every test of test_appstream.py again, with the appstream client speaking Smithy RPC v2 CBOR instead of JSON.

The same assertions holding over CBOR is what "the same results as JSON" means here; the last test
checks from the request log that every appstream operation the toolkit calls went through the CBOR
gateway (drawn from the botocore model and the toolkit's code, not from a hand-written list).
Tests there that send hand-made JSON (the server's own validation) keep doing so.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from sandbox.backends.appstream import AppStreamService
from sandbox.client import SandboxClient
from tests.conftest import TEST_TIME_SCALE
from tests.sandbox.cbor import cbor_sandbox, operations_sent_in_cbor, toolkit_operations
from tests.sandbox.test_appstream import *  # noqa: F403 - the tests (and their fixtures) to run again

# The usage report subscription (usage stage) are tested with the other operations of the sandbox.
from tests.sandbox.test_operations import test_the_usage_report_subscription_is_one_per_region_with_its_own_bucket  # noqa: F401


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SandboxClient]:
    yield from cbor_sandbox(tmp_path_factory, TEST_TIME_SCALE, "appstream")


def test_every_appstream_operation_the_toolkit_calls_went_through_cbor(sandbox: SandboxClient) -> None:
    wanted = toolkit_operations("appstream", AppStreamService)
    assert wanted, "no appstream operation found in the toolkit's code: the scan is broken"
    missing = sorted(wanted - operations_sent_in_cbor(sandbox, "appstream"))
    assert not missing, f"never sent over RPC v2 CBOR by the tests above: {missing}"
