"""The scheduler: its jobs, the leader lock that lets one process run them, and /admin/scheduler."""
