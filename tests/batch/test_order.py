"""The integer run keys of `prepare` (lines sorted by person and claim) give exactly the
result of the string keys (any order), whatever the order of lines and of line numbers."""

from __future__ import annotations

import polars as pl

from tests.batch.population import population
from yibao.batch.prepare import _runs
from yibao.batch.run import _ranges
from yibao.batch.settle import Settler

REGIONS = ["tongliao", "erenhot", "liaoyang"]


def test_row_order_does_not_change_a_fen():
    persons, lines = population(REGIONS, 40, seed=23)
    settler = Settler(REGIONS)
    ordered = lines.sort("person_id", "claim_id", "line_no")
    falling = lines.sort("person_id", "claim_id", "line_no", descending=[False, False, True])
    shuffled = lines.sample(fraction=1.0, shuffle=True, seed=3)
    assert _runs(ordered) is not None and _runs(falling) is not None
    assert _runs(shuffled) is None
    results = [settler.settle(persons, frame).rows for frame in (ordered, falling, shuffled)]
    assert results[0].height == lines.select("person_id", "claim_id").n_unique()
    for other in results[1:]:
        assert other.equals(results[0])
    reference = results[0].sort("person_id", "setl_date", "claim_id")
    assert results[0].equals(reference)


def test_partitions_hold_each_person_once():
    """Sorted lines: ranges of person_id; any other order: the hash. A person without an id
    lands in one partition too."""
    ids = ["P1", "P1", "P2", "P3", "P3", "P3", "P4", "P5"]
    persons = pl.DataFrame({"person_id": [*ids, None]})
    for lines in (pl.DataFrame({"person_id": ids}), pl.DataFrame({"person_id": ids[::-1]})):
        for parts in (2, 3, 5, 12):
            held = [persons.filter(mine) for mine in _ranges(lines.lazy(), parts)]
            assert sum(frame.height for frame in held) == persons.height
            for pid in [*set(ids), None]:
                where = [frame for frame in held if pid in frame["person_id"].to_list()]
                assert len(where) == 1
