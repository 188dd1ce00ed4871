"""Tests of first-party plugins, one package per plugin."""
