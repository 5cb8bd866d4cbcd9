"""The Python runtime the `slotoptim` command starts: configuration, connections, embedded servers,
the CLI, practice files, claims, tokens, calendar and EHR sync, and the listener itself, which wakes
on NOTIFY, reads the durable rows, and acts on them."""
