"""Contact ID: codec, checksum, code table, mapping, registration."""
