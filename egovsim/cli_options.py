"""Options of the ``egovsim`` commands that talk to a running egovsim, in a module of their own so
that command groups kept in other modules (``egovsim cassette``) share them with ``egovsim.cli``,
which imports those modules."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

UrlOpt = Annotated[str | None, typer.Option("--url", help="egovsim to talk to [default: the local one]")]
TokenOpt = Annotated[
    str | None, typer.Option("--token", help="admin token [default: EGOVSIM_ADMIN_TOKEN or DATA_DIR/admin-token]")
]
DataDirOpt = Annotated[Path | None, typer.Option("--data-dir", help="data folder holding admin-token")]
