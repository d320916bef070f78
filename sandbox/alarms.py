"""CloudWatch metric alarms evaluated on the sandbox (moto keeps alarms and datapoints, never evaluates).

For each metric alarm of a region, the evaluation window is the last EvaluationPeriods periods ending
now. A period's value is the alarm's statistic over the datapoints that fall in it (for a metric math
alarm: each MetricStat query's statistic, then the expression whose ReturnData is true). The alarm is
ALARM when at least DatapointsToAlarm values of the window breach the threshold; periods without data
count as TreatMissingData says (missing: left out, and a window with no data at all is
INSUFFICIENT_DATA; notBreaching/breaching: counted as such; ignore: the state is kept). A state change
is written with moto's SetAlarmState and published to the alarm's SNS actions (AlarmActions on ALARM,
OKActions on OK) when ActionsEnabled.

Metric math: numbers, metric ids, + - * /, comparisons (== != < <= > >=), AND, OR, NOT, parentheses and
IF(condition, then, else): the part of CloudWatch's metric math ("Using metric math", CloudWatch user
guide) the toolkit's alarms use. Anything else makes the alarm INSUFFICIENT_DATA with the reason given.
"""

from __future__ import annotations

import datetime
import json
import math
import re
from collections.abc import Callable, Iterable
from typing import Any

from sandbox.jsonproto import ACCOUNT_ID

COMPARISONS: dict[str, Callable[[float, float], bool]] = {
    "GreaterThanThreshold": lambda value, threshold: value > threshold,
    "GreaterThanOrEqualToThreshold": lambda value, threshold: value >= threshold,
    "LessThanThreshold": lambda value, threshold: value < threshold,
    "LessThanOrEqualToThreshold": lambda value, threshold: value <= threshold,
}


class ExpressionError(ValueError):
    pass


# -- metric math --------------------------------------------------------------------------------
_TOKEN = re.compile(r"\s*(?:(\d+(?:\.\d+)?)|(>=|<=|==|!=|[-+*/(),<>])|([A-Za-z_][A-Za-z0-9_]*))")


def tokens(expression: str) -> list[str]:
    found: list[str] = []
    position = 0
    text = expression.strip()
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None or match.end() == position:
            raise ExpressionError(f"cannot read {text[position:]!r}")
        found.append(next(group for group in match.groups() if group is not None))
        position = match.end()
    return found


def evaluate_expression(expression: str, values: dict[str, float]) -> float:
    """The value of a metric math expression for one period (`values` by query id)."""
    items = tokens(expression)
    position = 0

    def peek() -> str | None:
        return items[position] if position < len(items) else None

    def take(expected: str | None = None) -> str:
        nonlocal position
        token = peek()
        if token is None or (expected is not None and token.upper() != expected):
            raise ExpressionError(f"expected {expected or 'more'} in {expression!r}")
        position += 1
        return token

    def disjunction() -> float:
        value = conjunction()
        while (peek() or "").upper() == "OR":
            take("OR")
            right = conjunction()
            value = float(bool(value) or bool(right))
        return value

    def conjunction() -> float:
        value = negation()
        while (peek() or "").upper() == "AND":
            take("AND")
            right = negation()
            value = float(bool(value) and bool(right))
        return value

    def negation() -> float:
        if (peek() or "").upper() == "NOT":
            take("NOT")
            return float(not negation())
        return comparison()

    def comparison() -> float:
        value = additive()
        operators = {
            "==": lambda a, b: a == b,
            "!=": lambda a, b: a != b,
            "<": lambda a, b: a < b,
            "<=": lambda a, b: a <= b,
            ">": lambda a, b: a > b,
            ">=": lambda a, b: a >= b,
        }
        if peek() in operators:
            operator = operators[take()]
            value = float(operator(value, additive()))
        return value

    def additive() -> float:
        value = term()
        while peek() in ("+", "-"):
            if take() == "+":
                value += term()
            else:
                value -= term()
        return value

    def term() -> float:
        value = factor()
        while peek() in ("*", "/"):
            if take() == "*":
                value *= factor()
            else:
                divisor = factor()
                value = value / divisor if divisor else math.nan
        return value

    def factor() -> float:
        token = take()
        if token == "(":  # noqa: S105 - a parenthesis, not a password
            value = disjunction()
            take(")")
            return value
        if token == "-":  # noqa: S105 - a minus sign
            return -factor()
        if re.fullmatch(r"\d+(?:\.\d+)?", token):
            return float(token)
        if token.upper() == "IF" and peek() == "(":
            take("(")
            condition = disjunction()
            take(",")
            then = disjunction()
            take(",")
            otherwise = disjunction()
            take(")")
            return then if condition else otherwise
        if token in values:
            return values[token]
        raise ExpressionError(f"unknown name {token!r} in {expression!r}")

    result = disjunction()
    if peek() is not None:
        raise ExpressionError(f"unexpected {peek()!r} in {expression!r}")
    return result


# -- statistics over periods ----------------------------------------------------------------------
def statistic(values: list[float], name: str) -> float:
    if name == "Sum":
        return sum(values)
    if name == "Minimum":
        return min(values)
    if name == "Maximum":
        return max(values)
    if name == "SampleCount":
        return float(len(values))
    return sum(values) / len(values)  # Average (and the sandbox's answer to percentiles)


def _dimensions(items: Iterable[Any]) -> dict[str, str]:
    found = {}
    for item in items:
        name = getattr(item, "name", None) if not isinstance(item, dict) else item.get("Name")
        value = getattr(item, "value", None) if not isinstance(item, dict) else item.get("Value")
        found[str(name)] = str(value)
    return found


def _epoch(moment: datetime.datetime) -> float:
    """moto keeps naive UTC timestamps."""
    return (moment if moment.tzinfo else moment.replace(tzinfo=datetime.UTC)).timestamp()


def period_values(
    data: list[Any],
    namespace: str,
    metric: str,
    dimensions: dict[str, str],
    stat: str,
    windows: list[tuple[float, float]],
) -> list[float | None]:
    """The statistic of the datapoints of one metric in each window (None: no datapoint)."""
    points = [
        datum
        for datum in data
        if datum.namespace == namespace
        and datum.name == metric
        and _dimensions(datum.dimensions) == dimensions
        and hasattr(datum, "value")
    ]
    result: list[float | None] = []
    for start, end in windows:
        inside = [float(p.value) for p in points if start < _epoch(p.timestamp) <= end]
        result.append(statistic(inside, stat) if inside else None)
    return result


def windows_of(period: int, count: int, now: float) -> list[tuple[float, float]]:
    return [(now - period * (index + 1), now - period * index) for index in range(count)][::-1]


def alarm_series(alarm: Any, data: list[Any], now: float) -> list[float | None]:
    count = int(alarm.evaluation_periods)
    if alarm.metric_data_queries:
        queries = alarm.metric_data_queries
        period = int(next((q.metric_stat.period for q in queries if q.metric_stat), 60))
        windows = windows_of(period, count, now)
        series: dict[str, list[float | None]] = {}
        for query in queries:
            if query.metric_stat is None:
                continue
            metric = query.metric_stat.metric
            series[query.id] = period_values(
                data,
                metric.namespace,
                metric.metric_name,
                _dimensions(metric.dimensions),
                query.metric_stat.stat,
                windows,
            )
        (watched,) = [q for q in queries if str(q.return_data).lower() in ("true", "1") and q.expression]
        values: list[float | None] = []
        for index in range(count):
            known = {name: points[index] for name, points in series.items() if points[index] is not None}
            if len(known) < len(series):
                values.append(None)
                continue
            values.append(evaluate_expression(watched.expression, known))  # type: ignore[arg-type]
        return values
    dimensions = {d.name: d.value for d in alarm.dimensions}
    windows = windows_of(int(alarm.period), count, now)
    return period_values(data, alarm.namespace, alarm.metric_name, dimensions, alarm.statistic or "Average", windows)


def decide(alarm: Any, values: list[float | None]) -> tuple[str, str]:
    """(state, reason) of an alarm given its window's values."""
    breach = COMPARISONS[alarm.comparison_operator]
    threshold = float(alarm.threshold)
    treat = alarm.treat_missing_data or "missing"
    needed = int(alarm.datapoints_to_alarm or alarm.evaluation_periods)
    present = [value for value in values if value is not None]
    if not present and treat == "missing":
        return "INSUFFICIENT_DATA", "no datapoint in the evaluation window"
    if not present and treat == "ignore":
        return alarm.state_value, "no datapoint: state kept (TreatMissingData ignore)"
    breaching = sum(1 for value in present if breach(value, threshold))
    if treat == "breaching":
        breaching += len(values) - len(present)
    shown = ", ".join("-" if value is None else f"{value:g}" for value in values)
    reason = f"{breaching} of the last {len(values)} datapoints [{shown}] breached the threshold {threshold:g}"
    return ("ALARM" if breaching >= needed else "OK"), reason


def evaluate_region(region: str, names: list[str] | None = None) -> dict[str, str]:
    """Evaluate the region's metric alarms (or those named); returns each alarm's state."""
    from moto.cloudwatch.models import cloudwatch_backends

    backend = cloudwatch_backends[ACCOUNT_ID][region]
    now = datetime.datetime.now(datetime.UTC).timestamp()
    states = {}
    for alarm in list(backend.alarms.values()):
        if names and alarm.name not in names:
            continue
        if getattr(alarm, "rule", None):
            continue  # composite alarms are not evaluated
        try:
            state, reason = decide(alarm, alarm_series(alarm, backend.metric_data, now))
        except (ExpressionError, ValueError, KeyError) as err:
            state, reason = "INSUFFICIENT_DATA", f"the sandbox cannot evaluate this alarm: {err}"
        if state != alarm.state_value:
            backend.set_alarm_state(alarm.name, reason, json.dumps({"sandbox": True}), state)
            _notify(region, alarm, state, reason)
        states[alarm.name] = alarm.state_value
    return states


def _notify(region: str, alarm: Any, state: str, reason: str) -> None:
    if not alarm.actions_enabled:
        return
    actions = alarm.alarm_actions if state == "ALARM" else alarm.ok_actions if state == "OK" else []
    from moto.sns.models import sns_backends

    backend = sns_backends[ACCOUNT_ID][region]
    message = json.dumps({"AlarmName": alarm.name, "NewStateValue": state, "NewStateReason": reason})
    for arn in actions or []:
        if arn.startswith("arn:aws:sns:") and arn in backend.topics:
            backend.publish(message, arn=arn, subject=f'ALARM: "{alarm.name}"' if state == "ALARM" else None)


def admin_evaluate_alarms(region: str, payload: dict[str, Any]) -> dict[str, Any]:
    """POST /_sandbox/cloudwatch/evaluate-alarms {"region", "names"?}: evaluate now."""
    return {"alarms": evaluate_region(region, payload.get("names"))}
