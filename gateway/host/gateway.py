"""The running gateway: journal, registry, and one supervised runner per plugin instance."""

from __future__ import annotations

import asyncio
import functools
from pathlib import Path
from typing import TYPE_CHECKING, Any

import structlog

from gateway.config.loader import LoadedConfig
from gateway.host.audit_outbox import AuditOutbox

if TYPE_CHECKING:
    from gateway.api import ApiServer
    from gateway.auth import AuthStore
from gateway.config.schema import Isolation
from gateway.event_loop import running_loop_name
from gateway.host.areas import AreaTracker
from gateway.host.commands import CommandDispatcher
from gateway.host.instance import InstanceRunner
from gateway.host.reload import ReloadError, ReloadPlan, plan_reload
from gateway.host.watchdog import LoopWatchdog, StallReport
from gateway.incidents.tracker import IncidentTracker
from gateway.journal import Journal
from gateway.model.address import GbCodeAllocator
from gateway.model.command import AuditEntry, Command, CommandResult
from gateway.model.event import Event
from gateway.model.kinds import Phase
from gateway.paths import default_data_dir
from gateway.registry.registry import Registry
from gateway.registry.statedb import StateDB, StateStore
from gateway.rules.engine import RuleEngine
from gateway.rules.facts import RegistryFacts
from gateway.sdk.clock import Clock, SystemClock
from gateway.sdk.context import PluginContext
from gateway.sdk.discovery import InstalledPlugins

log = structlog.get_logger("anfang.gateway")

FAULTED_NS = "host:faulted"
"""State namespace of instances with an open plugin.fault alarm."""
STALL_THRESHOLD_S = 1.0
"""A loop that has not turned for this long is reported (alarms must reach the panel in 2 s)."""


class Gateway:
    def __init__(
        self,
        config: LoadedConfig,
        installed: InstalledPlugins,
        *,
        data_dir: Path | None = None,
        clock: Clock | None = None,
        backoff_initial_s: float = 1.0,
        accept_anchor_mismatch: bool = False,
        stall_threshold_s: float = STALL_THRESHOLD_S,
        serve_api: bool = False,
    ) -> None:
        self.config = config
        self.installed = installed
        self.clock = clock or SystemClock()
        self.data_dir = Path(data_dir or config.gateway.data_dir or default_data_dir()).expanduser()
        self.site = config.gateway.site.id
        self.runners: dict[str, InstanceRunner] = {}
        self._backoff_initial_s = backoff_initial_s
        self._accept_anchor_mismatch = accept_anchor_mismatch
        self._tasks: list[asyncio.Task[Any]] = []
        self._reload_lock = asyncio.Lock()
        self._running = False
        self._background: set[asyncio.Task[None]] = set()
        self._outbox: AuditOutbox | None = None
        self._stall_threshold_s = stall_threshold_s
        self._serve_api = serve_api
        self.api: ApiServer | None = None
        self.new_admin_token: str | None = None
        """Set when this start created the first admin token: shown once by ``anfang run``."""
        self.watchdog: LoopWatchdog
        self.auth: AuthStore
        self.journal: Journal
        self.registry: Registry
        self.statedb: StateDB
        self.areas: AreaTracker
        self.commands: CommandDispatcher
        self.rules: RuleEngine | None = None
        self.incidents: IncidentTracker

    async def start(self) -> None:
        g = self.config.gateway
        self.journal = await Journal.open(
            self.data_dir,
            retention=g.journal.retention,
            accept_anchor_mismatch=self._accept_anchor_mismatch,
            writer=g.journal.writer,
        )
        self.start_seq = self.journal.committed_seq
        """The journal's head before this run wrote anything (what a live view starts after)."""
        self.statedb = StateDB(self.data_dir / "state.sqlite3")
        self.registry = Registry(
            self.site,
            self.clock,
            self.statedb,
            self.journal.append,
            pins=g.devices,
            areas=g.areas,
            gb=GbCodeAllocator(g.site.gb_prefix, g.site.gb_network),
        )
        self.registry.upsert_device(f"{self.site}/gateway", kind="gateway", name="Anfang gateway")
        await self.journal.append(
            self._host_event(
                "gateway.started", Phase.MOMENTARY, data={"data_dir": str(self.data_dir)}
            )
        )
        self.areas = AreaTracker(self.journal, self.registry, self.statedb)
        self.commands = CommandDispatcher(self.journal, self.registry, self.runners.get, self.clock)
        self._tasks.append(asyncio.create_task(self.areas.run(), name="area-tracker"))
        self.watchdog = LoopWatchdog(
            asyncio.get_running_loop(), self._on_stall, threshold_s=self._stall_threshold_s
        )
        self.watchdog.start()
        self._tasks.append(
            asyncio.create_task(self.registry.run_supervision(), name="registry-supervision")
        )
        self._tasks.append(asyncio.create_task(self._prune_periodically(), name="journal-prune"))
        outbox = self._outbox = AuditOutbox(self.statedb)
        await outbox.drain(self.journal.append, self._journaled)  # `anfang users` meanwhile
        self._tasks.append(
            asyncio.create_task(
                outbox.drain_periodically(self.journal.append, self._journaled),
                name="audit-outbox",
            )
        )
        await self._restore_faults_of_removed_instances()
        self.incidents = IncidentTracker(
            g.incidents,
            journal=self.journal,
            state=self.statedb,
            clock=self.clock,
            area_of=self.registry.area_of,
            areas_caught_up=self.areas.caught_up,
        )
        self.incidents.start()
        self._start_rules()
        if self._serve_api and g.api.enabled:  # before plugins: a taken port fails fast
            try:
                await self._start_api()
            except BaseException:
                await self.stop()  # the journal says the gateway stopped; nothing left open
                raise
        for inst in g.plugins:
            if inst.enabled:
                self.start_instance(inst.id)
        self._running = True
        if self.installed.manager is not None:
            self.installed.manager.hook.anfang_gateway_started(instance_ids=list(self.runners))
        log.info(
            "gateway started",
            site=self.site,
            data_dir=str(self.data_dir),
            instances=list(self.runners),
            event_loop=running_loop_name(),
        )

    async def _start_api(self) -> None:
        from gateway.api import ApiServer, create_app  # FastAPI only when serving
        from gateway.auth import AuthStore

        self.auth = AuthStore(self.statedb, audit=self._audit)
        self.new_admin_token = self.auth.ensure_admin_token(self.data_dir)
        api = self.config.gateway.api
        app = create_app(self, self.auth, https=api.certfile is not None)
        self.api = ApiServer(app, api)
        await self.api.start()

    def _journaled(self, record_id: str) -> bool:
        return self.journal.reader.find(record_id) is not None

    def _audit(self, entry: AuditEntry) -> None:
        """Operator-log entries from the auth store (logins, user changes) into the journal,
        each after what ``anfang users`` left in the outbox before it."""
        outbox = self._outbox
        if outbox is None:
            self._journal_later(entry, "journal-audit")
            return
        task = asyncio.create_task(self._audit_in_order(outbox, entry), name="journal-audit")
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def _audit_in_order(self, outbox: AuditOutbox, entry: AuditEntry) -> None:
        try:
            await outbox.append_after_waiting(
                entry, self.journal.submit, self.journal.append, self._journaled
            )
        except Exception as exc:  # the journal reports its own faults
            log.error("could not journal an audit record", error=str(exc))

    async def _restore_faults_of_removed_instances(self) -> None:
        """A fault alarm left open by an instance no longer configured is closed, not forgotten."""
        faults = StateStore(self.statedb, FAULTED_NS)
        enabled = {i.id for i in self.config.gateway.plugins if i.enabled}
        for instance_id in faults.items():
            if instance_id in enabled:
                continue
            await self.journal.append(
                self._host_event(
                    "plugin.fault",
                    Phase.RESTORE,
                    f"{self.site}/{instance_id}",
                    text="instance removed from the config",
                )
            )
            faults.delete(instance_id)

    def start_instance(self, instance_id: str) -> InstanceRunner:
        inst = next(i for i in self.config.gateway.plugins if i.id == instance_id)
        cls = self.installed.classes[inst.plugin]
        if inst.isolation is Isolation.PROCESS:
            from gateway.host.process import isolated_plugin_class

            cls = isolated_plugin_class(cls, self.data_dir)
        self.registry.upsert_device(
            f"{self.site}/{inst.id}",
            kind="plugin",
            plugin=inst.id,
            name=f"{inst.plugin} instance {inst.id}",
        )

        def make_context(on_failed: Any) -> PluginContext:
            return PluginContext(
                instance_id=inst.id,
                plugin_name=inst.plugin,
                site=self.site,
                journal=self.journal,
                registry=self.registry,
                kinds=self.installed.kinds,
                state=StateStore(self.statedb, f"plugin:{inst.id}"),
                clock=self.clock,
                on_task_failed=on_failed,
                dispatch=self.dispatch,
            )

        runner = InstanceRunner(
            inst.id,
            cls,
            self.config.plugin_configs[inst.id],
            make_context,
            self.clock,
            backoff_initial_s=self._backoff_initial_s,
            faults=StateStore(self.statedb, FAULTED_NS),
        )
        self.runners[inst.id] = runner
        runner.start()
        return runner

    def _start_rules(self) -> None:
        """The rule engine for the current config (none without rules); it resumes from its
        durable cursor, so a restart of the engine neither repeats nor skips a linkage."""
        g = self.config.gateway
        if not g.rules:
            self.rules = None
            return
        self.rules = RuleEngine(
            g.rules,
            journal=self.journal,
            facts=RegistryFacts(self.registry),
            # A run's own record follows each result through the same writer: the run need
            # not wait for the result's record to be durable (the cursor waits for the run's).
            dispatch=functools.partial(self.commands.dispatch, await_result_record=False),
            clock=self.clock,
            kinds=self.installed.kinds,
            site_zone=g.site.timezone,
            areas_caught_up=self.areas.caught_up,
            incidents=self.incidents,
        )
        self.rules.start()

    async def reload(
        self, new: LoadedConfig, actor: str = "host", remote: str | None = None
    ) -> ReloadPlan:
        """Apply a new config: restart only instances whose settings changed, update the pins.

        Raises ReloadError (changing nothing) when the new config cannot be applied live.
        """
        async with self._reload_lock:
            if not self._running:
                raise ReloadError("the gateway is not running (starting or stopping)")
            plan = plan_reload(self.config, new)
            old = self.config
            for instance_id in plan.stop:
                await self.runners.pop(instance_id).retire()
            for instance_id in plan.restart:
                await self.runners.pop(instance_id).stop()
            self.config = new
            self.registry.update_pins(new.gateway.devices, new.gateway.areas)
            for instance_id in plan.start + plan.restart:
                self.start_instance(instance_id)
            old_rules = (old.gateway.rules, old.gateway.site.timezone)
            rules_changed = old_rules != (new.gateway.rules, new.gateway.site.timezone)
            if rules_changed:
                if self.rules is not None:
                    await self.rules.stop()
                self._start_rules()
            incidents_changed = old.gateway.incidents != new.gateway.incidents
            if incidents_changed:
                self.incidents.reconfigure(new.gateway.incidents)
            await self.audit_reload(
                actor,
                remote,
                {
                    "source": new.source,
                    **plan.summary(),
                    "rules_reloaded": rules_changed,
                    "rules": len(new.gateway.rules),
                    "incidents_reconfigured": incidents_changed,
                },
            )
        log.info("config reloaded", source=new.source, **plan.summary())
        return plan

    async def audit_reload(
        self, actor: str, remote: str | None, detail: dict[str, Any], result: str = "ok"
    ) -> None:
        """The operator-log record of a reload, applied (``ok``) or refused by its caller."""
        await self.journal.append(
            AuditEntry(
                actor=actor,
                action="config.reload",
                target=f"{self.site}/gateway",
                remote=remote,
                result=result,
                detail=detail,
            )
        )

    async def dispatch(self, command: Command) -> CommandResult:
        """Carry out a command (see :class:`CommandDispatcher`); both ends are journaled."""
        return await self.commands.dispatch(command)

    def _on_stall(self, report: StallReport) -> None:
        """Journal who blocked the loop (called on the loop once it runs again)."""
        source = f"{self.site}/gateway"
        if report.instance in self.runners:
            source = f"{self.site}/{report.instance}"
            self.runners[report.instance].status.stalls += 1
        event = self._host_event(
            "gateway.loop_blocked",
            Phase.MOMENTARY,
            source,
            text=f"event loop blocked for {report.blocked_s:.1f} s by {report.culprit}"[:1000],
            data={
                "blocked_s": round(report.blocked_s, 3),
                "task": report.task,
                "instance": report.instance,
                "culprit": report.culprit,
                "stack": report.stack[-4000:],
            },
        )
        self._journal_later(event, "journal-stall")

    def _host_event(
        self, kind: str, phase: Phase, source: str | None = None, **fields: Any
    ) -> Event:
        """An event the host itself raises, with the kind's default priority."""
        spec = self.installed.kinds.check(kind, phase)
        return Event(
            kind=kind,
            phase=phase,
            priority=spec.priority,
            source=source or f"{self.site}/gateway",
            plugin="host",
            **fields,
        )

    def _journal_later(self, record: Event | AuditEntry, name: str) -> None:
        """Journal from a callback that cannot await: the task is kept until it is done."""
        task = asyncio.create_task(self._append_quietly(record), name=name)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def _append_quietly(self, record: Event | AuditEntry) -> None:
        try:
            await self.journal.append(record)
        except Exception as exc:  # the journal reports its own faults
            log.error("could not journal a record", record=type(record).__name__, error=str(exc))

    async def _prune_periodically(self) -> None:
        interval = self.config.gateway.journal.prune_interval_s
        while True:
            await self.clock.sleep(interval)
            # Ages by the gateway's clock, the one that stamped the records and woke this task.
            report = await self.journal.prune(now_us=int(self.clock.now().timestamp() * 1e6))
            if report.pruned:
                log.info("journal pruned", records=report.pruned, by_kind=report.by_kind)

    async def stop(self) -> None:
        async with self._reload_lock:  # a reload in progress finishes first; later ones refuse
            self._running = False
        if self.api is not None:
            await self.api.stop()
        self.watchdog.stop()
        if self.installed.manager is not None:
            self.installed.manager.hook.anfang_gateway_stopping()
        if self.rules is not None:  # before the plugins: no linkage to a stopped plugin
            await self.rules.stop()
        await self.incidents.stop()
        for runner in list(self.runners.values()):
            await runner.stop()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.journal.append(self._host_event("gateway.stopped", Phase.MOMENTARY))
        await self.journal.close()
        self.statedb.close()
        log.info("gateway stopped")
