"""teamfoned: a team's shared phone number reaches whoever in the team is available."""

__version__ = "0.1.0"
