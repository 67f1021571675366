"""What the routers share: the app's database and the path parameters several of them take."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Request

from yibao.store.db import Database

PersonId = Annotated[str, Path(min_length=1, max_length=30, description="人员编号 psn_no")]


def db_of(request: Request) -> Database:
    """The database `create_app` opened for this application."""
    return request.app.state.db
