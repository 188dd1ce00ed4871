"""Commands over MQTT: parse, check against the connector's allow rules, dispatch, answer.

The broker's ACL authenticates who may publish on ``<prefix>/commands/#``; this gateway then
decides what it carries out. Every command that names a target and an action is journaled with
the connector as its issuer — refused ones too, as a command with a ``denied`` result — and a
payload that cannot be a command is answered with an error and counted, never raised.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta

from pydantic import ValidationError

from gateway.model.command import Command, CommandResult, ResultStatus
from gateway.model.common import utcnow
from plugins.mqtt.config import CommandsConfig
from plugins.mqtt.payloads import (
    CommandPayloadError,
    error_payload,
    parse_command,
    request_id_of,
    result_payload,
)
from plugins.mqtt.topics import Topics

Dispatch = Callable[[Command], Awaitable[CommandResult]]
Record = Callable[[Command, CommandResult], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class Answer:
    topic: str
    payload: bytes
    correlation: bytes | None = None


class CommandHandler:
    def __init__(
        self,
        config: CommandsConfig,
        topics: Topics,
        issuer: str,
        dispatch: Dispatch,
        record_denied: Record,
        counters: Counter[str],
    ) -> None:
        self.config = config
        self.topics = topics
        self.issuer = issuer
        self._dispatch = dispatch
        self._record_denied = record_denied
        self.counters = counters

    async def handle(
        self,
        topic: str,
        payload: bytes,
        response_topic: str | None = None,
        correlation: bytes | None = None,
    ) -> Answer:
        """Carry out one command message; returns where and what to answer."""
        self.counters["commands_received"] += 1
        target: str | None = None
        try:
            target = self.topics.command_target(topic)
            request = parse_command(payload, self.config.max_payload)
        except (CommandPayloadError, ValueError) as exc:
            self.counters["commands_malformed"] += 1
            body = error_payload(
                target, str(exc), request_id_of(payload[: self.config.max_payload])
            )
            return self._answer(self.topics.command_tail(topic), body, response_topic, correlation)
        deadline = None
        if request.timeout_s is not None:
            deadline = utcnow() + timedelta(seconds=request.timeout_s)
        try:
            command = Command(
                target=target,
                action=request.action,
                params=request.params,
                reason=request.reason,
                deadline=deadline,
                issued_by=self.issuer,
            )
        except ValidationError as exc:
            self.counters["commands_malformed"] += 1
            problems = "; ".join(
                f"{'.'.join(str(p) for p in e['loc']) or 'command'}: {e['msg']}"
                for e in exc.errors()
            )
            body = error_payload(target, problems, request.request_id)
            return self._answer(target, body, response_topic, correlation)
        if not self.config.allows(command.target, command.action):
            self.counters["commands_denied"] += 1
            result = CommandResult(
                command_id=command.id,
                target=command.target,
                action=command.action,
                status=ResultStatus.DENIED,
                detail=f"this MQTT connector does not allow {command.action} on {command.target}",
            )
            await self._record_denied(command, result)
        else:
            result = await self._dispatch(command)
            self.counters[f"commands_{result.status.value}"] += 1
        return self._answer(
            target, result_payload(result, request.request_id), response_topic, correlation
        )

    def _answer(
        self,
        topic_tail: str | None,
        body: bytes,
        response_topic: str | None,
        correlation: bytes | None,
    ) -> Answer:
        if response_topic:
            return Answer(response_topic, body, correlation)
        return Answer(self.topics.result_for(topic_tail or ""), body, correlation)
