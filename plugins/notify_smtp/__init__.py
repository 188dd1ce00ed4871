"""E-mail notifications over SMTP: ``notify.request`` in, a MIME message out, ``notify.result``."""
