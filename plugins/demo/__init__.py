"""A simulated small bank branch, for the quick start and for tests of the host."""

from plugins.demo.plugin import DemoPlugin

__all__ = ["DemoPlugin"]
