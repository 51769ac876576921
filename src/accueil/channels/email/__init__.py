"""Email: sending through SMTP today; receiving (SMTP listener, IMAP) comes with the written-channels work."""
