"""Acme Video Cloud for videoedit: a worked example of a third-party provider package.

- ``acme_video.provider``: the provider, sans-I/O (builds requests, parses answers);
- ``acme_video.plugin``: what the ``videoedit`` entry point loads (registration, encoding);
- ``acme_video.emulator``: Acme's wire format on the videoedit emulator's shared engine,
  loaded through the ``videoedit_emulator.adapters`` entry point, so that the contract kit
  runs against it offline.
"""

from acme_video.provider import DIALECT, PROVIDER_ID, AcmeVideoProvider

__all__ = ["DIALECT", "PROVIDER_ID", "AcmeVideoProvider"]
