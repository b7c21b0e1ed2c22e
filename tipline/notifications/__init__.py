"""In-app inbox and e-mail outbox: how people learn that something is due."""
