"""PostgreSQL bench fixture: being built."""
