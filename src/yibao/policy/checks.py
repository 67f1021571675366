"""The checks a policy file gets beyond loading, shared by `yibao policy validate` and the tests:
each quote is verbatim in its seed file (which exists), each rule id is a rule of
`policy-facts.md`, each gap id a gap of `policy-facts.md` or `docs/gaps.md`, and in a region
file every assumption names a gap and every level or age restriction is cited.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from yibao.policy.loader import (
    SEED_OF_PREFIX,
    PolicyError,
    fill_seed,
    load_region,
    load_with_overlays,
    parse_region,
    read_policy_text,
    read_yaml,
)

# the repository's checkout: the seeds and policy-facts.md live beside it, in ../shared
REPO = Path(__file__).resolve().parents[3]
DEFAULT_SEEDS = REPO.parent / "shared" / "seeds"
GAPS_DOC = REPO / "docs" / "gaps.md"

RULE_ROW = re.compile(r"^\| ([A-Z]{2}-\d{2}) \|", re.MULTILINE)
GAP_ROW = re.compile(r"^\| (G-[A-Z]+-\d+) \|", re.MULTILINE)
GAP_ID = re.compile(r"\bG-[A-Z]+-\d+\b")


@dataclass(frozen=True)
class Known:
    """The seed folder and the rule and gap ids a citation may name."""

    seeds: Path
    rules: frozenset[str]
    gaps: frozenset[str]


@dataclass(frozen=True)
class Problem:
    path: str
    reason: str


def facts_file(seeds: Path) -> Path:
    """`policy-facts.md`, in the `docs/` folder beside the seeds folder."""
    return seeds.parent / "docs" / "policy-facts.md"


def known_ids(seeds: Path = DEFAULT_SEEDS) -> Known:
    """The ids of `policy-facts.md` and of `docs/gaps.md` (when this checkout has it).
    A missing seeds folder or facts file is a FileNotFoundError naming it."""
    if not seeds.is_dir():
        raise FileNotFoundError(f"seed folder {seeds} not found")
    facts = facts_file(seeds)
    if not facts.is_file():
        raise FileNotFoundError(f"{facts} not found")
    text = facts.read_text("utf-8")
    gaps = GAP_ROW.findall(text)
    if GAPS_DOC.is_file():
        gaps += GAP_ROW.findall(GAPS_DOC.read_text("utf-8"))
    return Known(seeds, frozenset(RULE_ROW.findall(text)), frozenset(gaps))


def validate_file(path: Path, region: str | None, known: Known) -> list[Problem]:
    """Every problem of a region file or a reform overlay: the loader's first refusal, or
    else each citation problem. An overlay is merged over its region's packaged policy: the
    overlay's `region:`, or `region` when it names none."""
    try:
        raw = read_yaml(read_policy_text(path), path.name)
        if isinstance(raw, dict) and "versions" in raw:
            parse_region(read_policy_text(path), path.name)
            fill_seed(raw, raw.get("seed"))
            return citation_problems(raw, known, region_file=True)
        if isinstance(raw, dict) and "changes" in raw:
            return _overlay_problems(path, raw, region, known)
    except PolicyError as exc:
        where = exc.path if exc.file == path.name else f"{exc.file}: {exc.path}".rstrip(": ")
        return [Problem(where, exc.reason)]
    return [Problem("", "neither a region file (versions:) nor a reform overlay (changes:)")]


def _overlay_problems(path: Path, raw: dict, region: str | None, known: Known) -> list[Problem]:
    region = raw.get("region") or region
    if not region:
        return [Problem("region", "an overlay names its region: give region: or --region")]
    load_with_overlays(str(region), (path,))
    changes = {"changes": raw["changes"]}
    fill_seed(changes, load_region(str(region)).seed)
    return citation_problems(changes, known, region_file=False)


def citation_problems(raw: Any, known: Known, region_file: bool) -> list[Problem]:
    """Every problem of the citations in parsed YAML whose sources carry their `seed:`."""
    problems: list[Problem] = []
    for path, node in _dicts(raw, ""):
        if "rule" in node and "quote" in node:
            problems += _source_problems(path, node, known)
        if node.get("assumed") is True:
            problems += _gap_problems(path, str(node.get("reason") or ""), known, region_file)
        if region_file:
            problems += _uncited_restrictions(path, node)
    return problems


def _dicts(node: Any, path: str) -> Iterator[tuple[str, dict]]:
    """Every mapping in the tree with its path (`versions[0].schemes.resident`)."""
    if isinstance(node, dict):
        yield path, node
        for key, value in node.items():
            yield from _dicts(value, f"{path}.{key}" if path else str(key))
    elif isinstance(node, list):
        for i, item in enumerate(node):
            yield from _dicts(item, f"{path}[{i}]")


def _source_problems(path: str, source: dict, known: Known) -> list[Problem]:
    rule, seed, quote = str(source["rule"]), source.get("seed"), str(source["quote"])
    if rule not in known.rules:
        return [Problem(f"{path}.rule", f"{rule} is not a rule id of policy-facts.md")]
    if seed is None:
        return [Problem(f"{path}.seed", f"no seed file for {rule}")]
    file = known.seeds / str(seed)
    if not file.is_file():
        return [Problem(f"{path}.seed", f"seed file {seed} not found in {known.seeds}")]
    expected = SEED_OF_PREFIX.get(rule[:2])
    if expected is not None and seed != expected:
        return [Problem(f"{path}.rule", f"{rule} is a rule of {expected}, not of {seed}")]
    if quote not in file.read_text("utf-8"):
        return [Problem(f"{path}.quote", f"not verbatim in {seed}: {quote!r}")]
    return []


def _gap_problems(path: str, reason: str, known: Known, region_file: bool) -> list[Problem]:
    named = GAP_ID.findall(reason)
    if not named and region_file:
        return [Problem(f"{path}.reason", "names no gap id (e.g. G-TL-1)")]
    return [
        Problem(f"{path}.reason", f"{gap} is not a gap of policy-facts.md or docs/gaps.md")
        for gap in named
        if gap not in known.gaps
    ]


def _uncited_restrictions(path: str, node: dict) -> list[Problem]:
    """A level or age limit decides who is paid as much as a number does: it is cited too."""
    found = []
    if isinstance(node.get("match"), dict) and isinstance(node["match"].get("levels"), list):
        found.append(f"{path}.match.levels")
    if isinstance(node.get("max_age"), int):
        found.append(f"{path}.max_age")
    reason = (
        "uncited: write {value: ..., source: ...} or {value: ..., assumed: true, reason: G-...}"
    )
    return [Problem(where, reason) for where in found]
