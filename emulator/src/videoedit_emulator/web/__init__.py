"""The emulator's web app: the wire formats in front of the engine.

The Starlette app (``app.py``), the middleware that journals requests, applies fault rules and
renders errors (``middleware.py``, ``faults.py``, ``journal.py``), the control plane
(``control.py``), the wire-format adapters (``adapters/``), adapters of other packages found
through entry points (``discovery.py``) and a loopback file server for tests
(``fileserver.py``). It imports the engine (`videoedit_emulator.engine`); nothing below
imports it.
"""
