"""Migration scripts; each NNNN_name.py runs the NNNN_name.sql beside it."""
