"""Running a function in a process forked from the test process, as Ansible forks a worker from the controller."""

from __future__ import annotations

import os
import signal
from collections.abc import Callable


def in_a_forked_child(report: Callable[[], str], timeout: int = 60) -> str:
    """What `report()` returns in a process forked now, as Ansible forks a worker from the controller.

    The child leaves at once whatever happens (os._exit: no test machinery runs twice), and is killed after
    `timeout` seconds, so that a child that hangs makes the caller's test fail instead of hanging the suite:
    its report is then empty.
    """
    reader, writer = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            signal.alarm(timeout)
            os.close(reader)
            os.write(writer, report().encode())
        finally:
            os._exit(0)
    os.close(writer)
    chunks = []
    while chunk := os.read(reader, 65536):
        chunks.append(chunk)
    os.close(reader)
    os.waitpid(pid, 0)
    return b"".join(chunks).decode()
