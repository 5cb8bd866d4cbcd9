"""Practice files: JSON import and export of a whole practice, and the demo practice."""
