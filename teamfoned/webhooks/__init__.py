"""Webhooks: call events for a tenant's own systems, signed, from a durable outbox, at least once."""
