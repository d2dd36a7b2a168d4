"""Entry point of videoedit-apimart (filled in by its issue)."""
