"""The AppStream 2.0 backend: every implemented operation, one mixin per resource family."""

from __future__ import annotations

from sandbox.backends.appstream.directory import DirectoryMixin
from sandbox.backends.appstream.fleets import FleetsMixin
from sandbox.backends.appstream.hooks import HooksMixin
from sandbox.backends.appstream.images import ImagesMixin
from sandbox.backends.appstream.stacks import StacksMixin
from sandbox.backends.appstream.tags import TagsMixin
from sandbox.backends.appstream.usage import UsageMixin
from sandbox.backends.appstream.users import UsersMixin


class AppStreamService(
    ImagesMixin, FleetsMixin, StacksMixin, DirectoryMixin, UsersMixin, TagsMixin, UsageMixin, HooksMixin
):
    """AppStream 2.0 as the sandbox serves it (JSON 1.1, `PhotonAdminProxyService.<Operation>`)."""

    service_name = "appstream"
