"""`python -m bot` is the same as the `thiduabot` command."""

from bot.cli import main

raise SystemExit(main())
