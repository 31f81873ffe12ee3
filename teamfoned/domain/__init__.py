"""Pure rules shared by the API, the CLI, the directory file and the store; contains no I/O.

This package imports nothing of teamfoned but `teamfoned.routing`.
"""
