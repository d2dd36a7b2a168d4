"""``python -m videoedit_emulator``: the ``videoedit-emulator`` command (``serve``, ``demo``)."""

from videoedit_emulator.cli import main

raise SystemExit(main())
