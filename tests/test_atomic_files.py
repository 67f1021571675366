"""Outputs written beside their place and moved onto it only when complete."""

from __future__ import annotations

import os

import pytest

from yibao.atomic_files import written_beside


def test_a_failed_block_leaves_the_previous_file_and_no_partial(tmp_path):
    out = tmp_path / "out.txt"
    out.write_text("previous")
    with pytest.raises(RuntimeError), written_beside(out) as (partial,):
        partial.write_text("half")
        raise RuntimeError("stopped")
    assert out.read_text() == "previous" and os.listdir(tmp_path) == ["out.txt"]


def test_a_folder_that_cannot_be_written_is_named_not_the_hidden_file(tmp_path, monkeypatch):
    # as a read-only folder answers (the tests may run as root, who may write anywhere)
    def denied(path, *args, **kwargs):
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(os, "open", denied)
    with pytest.raises(OSError) as caught, written_beside(tmp_path / "x.parquet"):
        pass
    assert caught.value.strerror == f"cannot write in {tmp_path} (Permission denied)"
    assert caught.value.filename == str(tmp_path / "x.parquet")
