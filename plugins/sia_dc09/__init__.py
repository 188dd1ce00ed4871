"""SIA DC-09: IP event reporting for alarm panels."""
