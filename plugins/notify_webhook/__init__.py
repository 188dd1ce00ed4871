"""Webhook notifications: each ``notify.request`` POSTed as signed JSON to a configured URL."""
