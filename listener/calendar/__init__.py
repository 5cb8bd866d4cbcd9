"""Calendar sync: Google Calendar, Microsoft 365 (Graph) and CalDAV, two-way."""
