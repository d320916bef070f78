"""RegisterEventTopic, DeregisterEventTopic, DescribeEventTopics: directory status messages to SNS.

Directory Service API reference (RegisterEventTopic): "Associates a directory with an Amazon SNS topic
... This Amazon SNS topic must be in the same region as the specified Directory ID." EventTopic.Status
is one of Registered | Topic not found | Failed | Deleted; the sandbox reads the topic in moto's SNS of
the directory's region, so a topic deleted after its registration is shown "Topic not found".
"""

from __future__ import annotations

import datetime
from typing import Any

from sandbox.backends.ds.base import DirectoryBase
from sandbox.errors import AwsError
from sandbox.jsonproto import Context


def _topic_arn(region: str, account_id: str, name: str) -> str:
    return f"arn:aws:sns:{region}:{account_id}:{name}"


def _topic_exists(region: str, account_id: str, name: str) -> bool:
    from moto.sns.models import sns_backends

    return _topic_arn(region, account_id, name) in sns_backends[account_id][region].topics


class EventsMixin(DirectoryBase):
    def _registrations(self, ctx: Context) -> dict[tuple[str, str], float]:
        state = self.state(ctx)
        live = self._live(state)
        registrations = state.event_topics
        for key in [key for key in registrations if key[0] not in live]:
            del registrations[key]  # a deleted directory publishes nothing any more
        return registrations

    def register_event_topic(self, ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
        directory = self._get(self.state(ctx), params["DirectoryId"])
        name = params["TopicName"]
        if not _topic_exists(ctx.region, ctx.account_id, name):
            raise AwsError("EntityDoesNotExistException", f"Topic {name} does not exist in {ctx.region}.")
        self._registrations(ctx).setdefault((directory.directory_id, name), self.clock.now())
        return {}

    def deregister_event_topic(self, ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
        directory = self._get(self.state(ctx), params["DirectoryId"])
        key = (directory.directory_id, params["TopicName"])
        registrations = self._registrations(ctx)
        if key not in registrations:
            raise AwsError(
                "EntityDoesNotExistException",
                f"Topic {params['TopicName']} is not registered with directory {directory.directory_id}.",
            )
        del registrations[key]
        return {}

    def describe_event_topics(self, ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
        names = params.get("TopicNames")
        if names is not None and not names:
            raise AwsError("InvalidParameterException", "TopicNames cannot be an empty list.")
        directory_id = params.get("DirectoryId")
        if directory_id:
            self._get(self.state(ctx), directory_id)
        topics = []
        for (registered_id, name), created in sorted(self._registrations(ctx).items()):
            if (directory_id and registered_id != directory_id) or (names and name not in names):
                continue
            topics.append(
                {
                    "DirectoryId": registered_id,
                    "TopicName": name,
                    "TopicArn": _topic_arn(ctx.region, ctx.account_id, name),
                    "CreatedDateTime": datetime.datetime.fromtimestamp(created, datetime.UTC),
                    "Status": "Registered" if _topic_exists(ctx.region, ctx.account_id, name) else "Topic not found",
                }
            )
        return {"EventTopics": topics}
