"""HTTP API (FastAPI): the national-style transaction endpoint and REST resources.

Routers are thin shells over `yibao.service`: parse, call one use case, render. `app.py`
builds the application (`create_app`); the rest is plumbing shared by the routers.
"""
