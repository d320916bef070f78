# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Reading every page of an AWS call that pages with ``NextToken``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def paginate(call: Callable[..., dict[str, Any]], key: str, **params: Any) -> list[Any]:
    """Every item under `key` of `call(**params)`, following ``NextToken`` until the last page.

    `call` is a client method; extra keyword arguments such as ``aws_retry=True`` (clients wrapped by
    amazon.aws's retry decorator) are passed on each page.
    """
    items: list[Any] = []
    request = dict(params)
    while True:
        page = call(**request)
        items.extend(page.get(key) or [])
        token = page.get("NextToken")
        if not token:
            return items
        request["NextToken"] = token
