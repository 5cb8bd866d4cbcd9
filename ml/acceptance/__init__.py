"""The acceptance model: who accepts an offer within its window (trained in SQL, evaluated here)."""
