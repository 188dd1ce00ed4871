"""Anfang: an integration gateway for physical-security systems."""

__version__ = "0.1.0"
