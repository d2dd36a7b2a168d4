"""The emulator's web app: the wire formats in front of the engine.

Each wire format is one adapter object (``adapter.py``; the emulator's own in ``adapters/``),
found through the ``videoedit_emulator.adapters`` entry points like other packages' adapters
(``discovery.py``); the web app is loops over them (``adapter_set.py``). The Starlette app
(``app.py``) owns its state (``state.py``: the adapters, the fault rules of ``faults/`` and
the ``journal.py``); the middleware journals requests, applies fault rules and renders
errors in each adapter's format (``middleware.py``); the control plane (``control.py``), the
console that shows it all in a browser (``console/``, under ``/_emulator/ui``) and a loopback
file server for tests (``fileserver.py``). It imports the engine
(`videoedit_emulator.engine`); nothing below imports it.
"""
