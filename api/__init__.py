"""The HTTP API (Litestar) and the claim page: built in issue 4, on top of the SQL surface."""
