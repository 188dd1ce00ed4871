"""The conformance kit: checks a plugin against the SDK contract and prints a report.

``anfang conformance PLUGIN`` and ``await check_plugin(PluginClass)`` run the same checks: metadata
and config schema, a real gateway on a throwaway journal that starts, exercises, stops and restarts
the plugin while measuring the event loop and counting tasks, sockets, threads and descriptors,
every declared action, the events it published, and each declared codec against its vectors and a
fuzz run. The check names and what each catches are listed in ``docs/conformance.md``.
"""

from conformance.codec_checks import check_codec
from conformance.report import CheckResult, Report, Status
from conformance.runner import check_plugin

__all__ = ["CheckResult", "Report", "Status", "check_codec", "check_plugin"]
