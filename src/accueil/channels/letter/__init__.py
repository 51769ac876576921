"""Scanned letters: the mailroom uploads them, Tesseract reads them, the sender is matched, replies print."""
