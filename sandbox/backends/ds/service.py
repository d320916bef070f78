"""AWS Directory Service, Managed Microsoft AD only, as the sandbox models it.

A directory moves Requested -> Creating -> Active over (scaled) time, gets two domain
controllers in the two subnets of its VPC (network interfaces and a `<id>_controllers`
security group created in moto's EC2, like AWS does), and leaves them behind when it is
deleted. Passwords are never stored in clear, never logged and never returned: the
backend keeps a salted hash per user so tests can prove a reset happened through the
`check-password` admin hook.

Seams for later work:
- `DirectoryService.dc_provider`: an object implementing `DomainControllerProvider`
  (e.g. a Samba AD DC launcher). When set, it is asked to provision a real domain
  controller when a directory is created, in the background (no API call waits for it); the
  directory stays Creating until its modelled creation time has passed *and* its DC answers,
  then Active, or Failed with the provider's reason. The addresses it returns replace
  DnsIpAddrs. It also receives password resets and is told to destroy the DC when the
  directory is gone. Default None: directories are pure bookkeeping.
- `DirectoryService.add_dependent_check(fn)`: other backends (FSx) register a function
  naming the resources that still use a directory; DeleteDirectory refuses while any do,
  as AWS refuses to delete a directory with authorized applications.
"""

from __future__ import annotations

from sandbox.backends.ds.controllers import ControllersMixin
from sandbox.backends.ds.directories import DirectoriesMixin
from sandbox.backends.ds.events import EventsMixin
from sandbox.backends.ds.hooks import HooksMixin
from sandbox.backends.ds.tags import TagsMixin


class DirectoryService(DirectoriesMixin, ControllersMixin, TagsMixin, EventsMixin, HooksMixin):
    """Directory Service as the sandbox serves it (JSON 1.1, `DirectoryService_20150416.<Operation>`)."""

    service_name = "ds"
