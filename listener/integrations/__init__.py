"""Generic machinery for external systems (calendars, FHIR servers): sealed secrets, connections,
throttling and the outbox of writes. See docs/integrations.md for the contract."""
