"""Entry point of videoedit-vtrix (filled in by its issue)."""
