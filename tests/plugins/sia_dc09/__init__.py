"""SIA DC-09: the frame codec (dc09), SIA data blocks and the receiver plugin."""
