"""SMS notifications through any HTTP SMS gateway, described by a request template."""
