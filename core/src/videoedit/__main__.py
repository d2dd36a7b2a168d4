"""``python -m videoedit``: the ``videoedit`` command, for when the script is not on PATH."""

from videoedit.cli.main import main

raise SystemExit(main())
