"""Findings of a hostile tenant admin and an unauthenticated client, each shown by a test that failed before its fix."""
