"""Seeded synthetic populations and claims (`yibao synth`); `docs/tables.md` documents them."""

from yibao.synth.generate import Generator, Options, generate

__all__ = ["Generator", "Options", "generate"]
