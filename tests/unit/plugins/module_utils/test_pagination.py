"""paginate follows the next token under the name the service gives it."""

from __future__ import annotations

from typing import Any

from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.aws.pagination import paginate


def pages(marker: str) -> Any:
    answers = {None: {"items": [1, 2], marker: "t1"}, "t1": {"items": [3], marker: "t2"}, "t2": {"items": [4]}}
    seen: list[Any] = []

    def call(**request: Any) -> dict[str, Any]:
        seen.append(dict(request))
        return answers[request.get(marker)]

    return call, seen


def test_every_page_is_read_with_nexttoken() -> None:
    call, seen = pages("NextToken")
    assert paginate(call, "items", Prefix="a") == [1, 2, 3, 4]
    assert seen == [{"Prefix": "a"}, {"Prefix": "a", "NextToken": "t1"}, {"Prefix": "a", "NextToken": "t2"}]


def test_cloudwatch_logs_pages_with_a_lower_case_token() -> None:
    call, seen = pages("nextToken")
    assert paginate(call, "items", "nextToken", logGroupNamePrefix="/x") == [1, 2, 3, 4]
    assert [request.get("nextToken") for request in seen] == [None, "t1", "t2"]
