"""Job persistence (SQLite) and execution (worker processes)."""
