# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Reading every page of an AWS call that pages with a next token (``NextToken``, or ``nextToken`` as
CloudWatch Logs and a few other services name it: the botocore model's input and output token)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def paginate(call: Callable[..., dict[str, Any]], key: str, page_marker: str = "NextToken", **params: Any) -> list[Any]:
    """Every item under `key` of `call(**params)`, following the next token until the last page.

    `call` is a client method; extra keyword arguments such as ``aws_retry=True`` (clients wrapped by
    amazon.aws's retry decorator) are passed on each page. `page_marker` is the token's name in both the
    response and the request (``nextToken`` for CloudWatch Logs).
    """
    items: list[Any] = []
    request = dict(params)
    while True:
        page = call(**request)
        items.extend(page.get(key) or [])
        token = page.get(page_marker)
        if not token:
            return items
        request[page_marker] = token
