"""The measuring harness: interpreters, run tables, and (later) pyperf and memory suites."""
