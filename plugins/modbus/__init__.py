"""Modbus power and UPS plugin: UPSs, meters and PDUs polled over Modbus TCP / RTU."""
