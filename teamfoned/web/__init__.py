"""The members' web app: server-rendered pages over the same domain rules and store as the API."""
