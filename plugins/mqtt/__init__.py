"""The MQTT connector: the journal's events north to a broker, commands back, HA discovery."""
