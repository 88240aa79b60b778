"""Queue mode (extra `flowrun[queue]`): executions as Celery tasks on a Redis broker, run by
`flowrun worker`s into a shared (PostgreSQL) history. Delivery is at-least-once."""
