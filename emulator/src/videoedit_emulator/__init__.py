"""Offline emulator of the Wan video-editing providers."""
