"""The SQL source of truth, shipped inside the wheel as package data (see slotoptim.migrations.sqlfiles)."""
