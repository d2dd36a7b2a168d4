"""Entry point of videoedit-vace (filled in by its issue)."""
