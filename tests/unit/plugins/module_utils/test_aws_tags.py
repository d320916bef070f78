"""known_or_read: a resource the run's tag listing holds is not read again; any other one is read, so that
ownership is still judged on what AWS says of it."""

from __future__ import annotations

from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.aws.tags import (
    known_arn,
    known_of_type,
    known_or_read,
)

FLEET = "arn:aws:appstream:eu-west-3:123456789012:fleet/acme-fleet"
DIRECTORY = "arn:aws:ds:eu-west-3:123456789012:directory/d-1234567890"


class Reader:
    """A ListTagsForResource stand-in that counts its calls."""

    def __init__(self, tags: dict[str, str] | None) -> None:
        self.tags, self.calls = tags, 0

    def __call__(self) -> dict[str, str] | None:
        self.calls += 1
        return self.tags


def test_a_listed_resource_is_not_read_again() -> None:
    read = Reader({"tenant": "other"})
    tags = known_or_read({FLEET: {"tenant": "acme", "managed-by": "appstream-tenant-toolkit"}}, FLEET, read)
    assert tags == {"tenant": "acme", "managed-by": "appstream-tenant-toolkit"}
    assert read.calls == 0


def test_a_resource_not_listed_is_read() -> None:
    # Another tenant's fleet of the same name is never in the listing (its filter is the tenant tag): it is
    # read, and what the read says (its owner) is what the ownership check judges.
    read = Reader({"tenant": "other"})
    assert known_or_read({"arn:aws:appstream:eu-west-3:123456789012:fleet/x": {"tenant": "acme"}}, FLEET, read) == {
        "tenant": "other"
    }
    assert read.calls == 1


def test_without_a_listing_every_resource_is_read() -> None:
    for known in (None, {}):
        read = Reader({"tenant": "acme"})
        assert known_or_read(known, FLEET, read) == {"tenant": "acme"}
        assert read.calls == 1


def test_a_malformed_entry_is_read_rather_than_trusted() -> None:
    read = Reader({"tenant": "acme"})
    assert known_or_read({FLEET: "tenant=acme"}, FLEET, read) == {"tenant": "acme"}  # type: ignore[dict-item]
    assert read.calls == 1


def test_what_the_read_answers_is_returned_as_it_is() -> None:
    assert known_or_read({}, FLEET, Reader(None)) is None  # a topic that does not exist


def test_a_directory_is_found_by_its_id_in_its_region() -> None:
    known = {FLEET: {"tenant": "acme"}, DIRECTORY: {"tenant": "acme"}}
    assert known_arn(known, "ds", "eu-west-3", "directory/d-1234567890") == DIRECTORY
    assert known_arn(known, "ds", "eu-west-1", "directory/d-1234567890") is None
    assert known_arn(known, "ds", "eu-west-3", "directory/d-0000000000") is None
    assert known_arn(None, "ds", "eu-west-3", "directory/d-1234567890") is None


def test_known_of_type_gives_ids_and_tags_of_one_type_of_one_service_in_one_region() -> None:
    known = {
        "arn:aws:ec2:eu-west-3:111122223333:elastic-ip/eipalloc-1": {"tenant": "acme", "n": 1},
        "arn:aws-cn:ec2:eu-west-3:444455556666:elastic-ip/eipalloc-2": {"tenant": "acme"},
        "arn:aws:ec2:eu-west-1:111122223333:elastic-ip/eipalloc-3": {"tenant": "acme"},
        "arn:aws:ec2:eu-west-3:111122223333:natgateway/nat-1": {"tenant": "acme"},
        "arn:aws:ec2:eu-west-3:111122223333:elastic-ipx/eipalloc-4": {"tenant": "acme"},
        "arn:aws:rds:eu-west-3:111122223333:elastic-ip/eipalloc-5": {"tenant": "acme"},
        "arn:aws:ec2:eu-west-3:111122223333:elastic-ip/eipalloc-6": "not tags",
        "not an arn": {"tenant": "acme"},
    }
    assert known_of_type(known, "ec2", "eu-west-3", "elastic-ip") == {
        "eipalloc-1": {"tenant": "acme", "n": "1"},
        "eipalloc-2": {"tenant": "acme"},
    }
    assert known_of_type(None, "ec2", "eu-west-3", "elastic-ip") == {}
    assert known_of_type(known, "ec2", None, "elastic-ip") == {}
