"""Asterisk bench fixtures (PBX and carrier): being built."""
