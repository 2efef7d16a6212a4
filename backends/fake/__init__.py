"""In-memory backends with frozen data, for snapshot tests."""
