"""`make bench`: teamfoned measured on the bench (PBX, carrier, PostgreSQL). Not a test suite."""
