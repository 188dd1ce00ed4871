"""Incidents: how an alarm is handled to the end — graded, acknowledged, escalated, closed."""
