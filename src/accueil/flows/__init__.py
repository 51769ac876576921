"""Units of work that span two domains (the only code that calls two domains' services in one transaction)."""
