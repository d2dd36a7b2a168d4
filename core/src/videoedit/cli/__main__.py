"""``python -m videoedit.cli``: the same as the ``videoedit`` command."""

from videoedit.cli.main import main

raise SystemExit(main())
