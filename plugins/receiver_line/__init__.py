"""Receiver-line bridge: a hardware alarm receiver's computer output, journaled, then ACKed.

Central stations run hardware receivers (Sur-Gard MLR2, System I/II/III/5 and receivers that
emulate them) that print every signal on a serial port or a TCP port as one line and wait for
the computer to answer ACK (0x06) or NAK (0x15). This plugin is that computer:

- ``codec`` (sans-IO): ``LineSplitter`` cuts bytes into lines, ``parse_line`` reads one line
  into a typed message (heartbeat, Contact ID, SIA, a line of another protocol) or raises
  ``LineError`` with a reason;
- ``mapping``: messages to canonical events, through the Contact ID and SIA tables of
  ``plugins.contact_id`` and ``plugins.sia_dc09.sia`` (imported, not copied);
- ``bridge``: what to answer and when (ACK only after the journal commit, NAK for a garbled
  line, silence when the journal cannot write, repeats after a lost ACK);
- ``transport``: TCP client, TCP server and serial links that move bytes, nothing more;
- ``plugin``: the wiring, the receiver as a supervised registry device.

The formats and their sources: ``docs/plugins/receiver-line.md``.
"""
