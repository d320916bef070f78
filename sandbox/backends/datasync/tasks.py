"""CreateTask, DescribeTask, UpdateTask, DeleteTask, ListTasks."""

from __future__ import annotations

from typing import Any

from sandbox.backends.datasync.base import DataSyncBase, new_id
from sandbox.backends.datasync.constants import MAX_PAGE, MAX_TASKS, RUNNING, TERMINAL
from sandbox.backends.datasync.models import RegionState, Task
from sandbox.backends.datasync.rules import (
    bucket_of,
    invalid,
    options_with_defaults,
    role_name_of,
    string_filter_matches,
    tags_from_list,
)
from sandbox.backends.datasync.storage import bucket_exists, log_group_exists, role_exists
from sandbox.jsonproto import Context, paginate


def log_group_name(arn: str) -> str:
    name = arn.split(":log-group:", 1)[1]
    return name[:-2] if name.endswith(":*") else name


class TasksMixin(DataSyncBase):
    def create_task(self, ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
        state = self.state(ctx)
        if len(state.tasks) >= MAX_TASKS:
            raise invalid(f"Limit reached: at most {MAX_TASKS} tasks per account and Region.", "LimitExceeded")
        source = self._location(state, params["SourceLocationArn"])
        destination = self._location(state, params["DestinationLocationArn"])
        if source.location_id == destination.location_id:
            raise invalid("The source and destination locations must differ.")
        self._check_log_group(ctx.region, params.get("CloudWatchLogGroupArn"))
        self._check_manifest_config(params.get("ManifestConfig"))
        if params.get("TaskMode", "BASIC") != "BASIC":
            raise invalid("The sandbox models BASIC mode tasks only.")
        task = Task(
            region=ctx.region,
            task_id=new_id("task-"),
            name=params.get("Name", ""),
            source_arn=source.arn,
            destination_arn=destination.arn,
            creation_time=self.clock.now(),
            options=options_with_defaults(params.get("Options")),
            log_group_arn=params.get("CloudWatchLogGroupArn"),
            includes=list(params.get("Includes", [])),
            excludes=list(params.get("Excludes", [])),
            schedule=self._schedule(params.get("Schedule")),
            manifest_config=params.get("ManifestConfig"),
            tags=tags_from_list(params.get("Tags")),
        )
        state.tasks[task.task_id] = task
        return {"TaskArn": task.arn}

    @staticmethod
    def _schedule(given: dict[str, Any] | None) -> dict[str, Any] | None:
        if not given or not given.get("ScheduleExpression"):
            return None  # UpdateTask with an empty expression removes the schedule
        expression = given["ScheduleExpression"]
        if not (expression.startswith("cron(") or expression.startswith("rate(")):
            raise invalid(f"Schedule expression {expression!r} is not a cron() or rate() expression.")
        return {"ScheduleExpression": expression, "Status": given.get("Status", "ENABLED")}

    @staticmethod
    def _check_log_group(region: str, arn: str | None) -> None:
        if arn and not log_group_exists(region, log_group_name(arn)):
            raise invalid(f"CloudWatch log group {arn} does not exist.")

    @staticmethod
    def _check_manifest_config(config: dict[str, Any] | None) -> None:
        if not config:
            return
        source = (config.get("Source") or {}).get("S3")
        if source is None:
            raise invalid("ManifestConfig needs Source.S3 (the manifest's bucket, key and access role).")
        if not bucket_exists(bucket_of(source["S3BucketArn"])):
            raise invalid(f"The manifest's bucket {source['S3BucketArn']} does not exist.")
        if not role_exists(role_name_of(source["BucketAccessRoleArn"])):
            raise invalid(f"DataSync cannot assume role {source['BucketAccessRoleArn']}.", "AccessDenied")

    def _current_execution(self, state: RegionState, task: Task) -> Any:
        """The task's execution that is not finished yet (running or queued), oldest first."""
        for execution_id in task.executions:
            execution = state.executions.get(execution_id)
            if execution is not None and execution.status.state not in TERMINAL:
                return execution
        return None

    def describe_task(self, ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
        state = self.state(ctx)
        task = self._task(state, params["TaskArn"])
        current = self._current_execution(state, task)
        status = "AVAILABLE"
        if current is not None:
            status = "RUNNING" if current.status.state in RUNNING else "QUEUED"
        answer: dict[str, Any] = {
            "TaskArn": task.arn,
            "Status": status,
            "Name": task.name,
            "SourceLocationArn": task.source_arn,
            "DestinationLocationArn": task.destination_arn,
            "Options": dict(task.options),
            "Excludes": list(task.excludes),
            "Includes": list(task.includes),
            "CreationTime": task.creation_time,
            "SourceNetworkInterfaceArns": [],
            "DestinationNetworkInterfaceArns": [],
            "TaskMode": task.task_mode,
        }
        if current is not None:
            answer["CurrentTaskExecutionArn"] = current.arn
        if task.log_group_arn:
            answer["CloudWatchLogGroupArn"] = task.log_group_arn
        if task.schedule:
            answer["Schedule"] = dict(task.schedule)
        if task.manifest_config:
            answer["ManifestConfig"] = task.manifest_config
        return answer

    def update_task(self, ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
        state = self.state(ctx)
        task = self._task(state, params["TaskArn"])
        if "Options" in params:
            task.options = options_with_defaults(params["Options"], task.options)
        if "CloudWatchLogGroupArn" in params:
            self._check_log_group(ctx.region, params["CloudWatchLogGroupArn"])
            task.log_group_arn = params["CloudWatchLogGroupArn"] or None
        if "Name" in params:
            task.name = params["Name"]
        if "Includes" in params:
            task.includes = list(params["Includes"])
        if "Excludes" in params:
            task.excludes = list(params["Excludes"])
        if "Schedule" in params:
            task.schedule = self._schedule(params["Schedule"])
        if "ManifestConfig" in params:
            self._check_manifest_config(params["ManifestConfig"])
            task.manifest_config = params["ManifestConfig"] or None
        return {}

    def delete_task(self, ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
        state = self.state(ctx)
        task = self._task(state, params["TaskArn"])
        if self._current_execution(state, task) is not None:
            raise invalid(f"Task {task.arn} has an execution that is not finished; cancel it first.")
        for execution_id in task.executions:
            state.executions.pop(execution_id, None)
        del state.tasks[task.task_id]
        return {}

    def list_tasks(self, ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
        state = self.state(ctx)
        tasks = sorted(state.tasks.values(), key=lambda item: (item.creation_time, item.task_id))
        for item in params.get("Filters", []):
            if item["Name"] != "LocationId":
                raise invalid(f"The sandbox does not filter tasks by {item['Name']}.")
            tasks = [
                task
                for task in tasks
                if string_filter_matches(task.source_arn, item["Operator"], item["Values"])
                or string_filter_matches(task.destination_arn, item["Operator"], item["Values"])
            ]
        entries = []
        for task in tasks:
            current = self._current_execution(state, task)
            status = "AVAILABLE" if current is None else ("RUNNING" if current.status.state in RUNNING else "QUEUED")
            entries.append({"TaskArn": task.arn, "Status": status, "Name": task.name, "TaskMode": task.task_mode})
        page, following = paginate(entries, params, default_limit=MAX_PAGE)
        answer: dict[str, Any] = {"Tasks": page}
        if following:
            answer["NextToken"] = following
        return answer
