"""DC-09 forwarder: report journal events to alarm receiving centres over SIA DC-09."""
