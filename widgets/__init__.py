"""Reusable Textual widgets. They take plain data and know nothing of backends."""
