"""Load region policy files: YAML → merged dated versions → validated `RegionPolicy`.

A bad file fails here, at load, naming the file, the path inside it and the reason —
never in the middle of a settlement.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterable
from functools import cache
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from yibao.errors import first_error
from yibao.policy.merge import MergeError, merge
from yibao.policy.schema import RegionPolicy

# the seed file of each rule-id prefix of policy-facts.md
SEED_OF_PREFIX = {
    "TL": "000_0b179e81e4fe45a1.txt",
    "QD": "001_0e8956db19925efd.txt",
    "FX": "002_b1dddb3db34f700f.txt",
    "EH": "003_4bef5791700317d1.txt",
    "LY": "004_f5d95c9877c1e552.txt",
}

VERSION_KEYS = ("valid_from", "valid_to", "label")
M = TypeVar("M", bound=BaseModel)


class PolicyError(ValueError):
    """A policy file that cannot be used: which file, where in it, and why."""

    def __init__(self, file: str, path: str, reason: str) -> None:
        super().__init__(f"{file}: {path}: {reason}" if path else f"{file}: {reason}")
        self.file, self.path, self.reason = file, path, reason


class UnknownRegion(PolicyError):
    """A region no packaged file is for; `reason` names the known ones."""


REGIONS = resources.files("yibao.policy") / "regions"


def unknown_region(region: str, known: Iterable[str] | None = None) -> str:
    """The one message for a region yibao has no policy for, naming those it has
    (`known`: the packaged region policies unless given)."""
    names = packaged_regions() if known is None else known
    return f"unknown region {region!r} (known: {', '.join(names)})"


def yaml_names(folder: Traversable) -> list[str]:
    """The regions of a packaged folder: its `.yaml` files' names, sorted."""
    return sorted(
        p.name.removesuffix(".yaml") for p in folder.iterdir() if p.name.endswith(".yaml")
    )


def packaged_text(folder: Traversable, region: str) -> str:
    """The text of a region's file in a packaged folder; an unknown region is a PolicyError
    naming the known ones."""
    known = yaml_names(folder)
    if region not in known:
        raise UnknownRegion(f"{region}.yaml", "", unknown_region(region, known))
    return (folder / f"{region}.yaml").read_text("utf-8")


def packaged_regions() -> list[str]:
    return yaml_names(REGIONS)


@cache
def load_region(region: str) -> RegionPolicy:
    """The packaged policy of a region (cached: policies are immutable)."""
    return parse_region(packaged_text(REGIONS, region), f"{region}.yaml")


def admdvs_of(region: str) -> str:
    """The region's 医保区划 code for national answers (its id when the policy has none)."""
    return load_region(region).admdvs or region


def load_region_file(path: Path) -> RegionPolicy:
    return parse_region(read_policy_text(path), path.name)


def read_policy_text(path: Path) -> str:
    """The text of a policy file named on the command line; a missing file, a directory or
    bytes that are not UTF-8 are one PolicyError, not a traceback."""
    try:
        return path.read_text("utf-8")
    except FileNotFoundError:
        raise PolicyError(path.name, "", f"no such file ({path})") from None
    except IsADirectoryError:
        raise PolicyError(path.name, "", f"{path} is a directory, not a policy file") from None
    except UnicodeDecodeError as exc:
        reason = f"not UTF-8 text (byte 0x{exc.object[exc.start]:02x} at offset {exc.start})"
        raise PolicyError(path.name, "", reason) from None
    except OSError as exc:
        raise PolicyError(path.name, "", f"cannot be read ({exc.strerror})") from None


def parse_region(text: str, file: str, overlays: tuple[Path, ...] = ()) -> RegionPolicy:
    raw = read_yaml(text, file)
    if not isinstance(raw, dict) or "versions" not in raw or "seed" not in raw:
        raise PolicyError(file, "", "a region file needs region, name, seed, description, versions")
    fill_seed(raw, raw["seed"])
    versions = _resolve_versions(raw["versions"], file)
    for overlay in overlays:
        versions = _apply_overlay(versions, overlay, raw.get("region"), raw["seed"])
    _check_continuity(versions, file)
    try:
        return RegionPolicy.model_validate({**raw, "versions": versions})
    except ValidationError as exc:
        if len(overlays) == 1 and (where := _overlay_place(exc, versions)) is not None:
            raise PolicyError(overlays[0].name, *where) from None
        # the path is the merged policy's: name the overlays it came through
        merged = " + ".join([file, *(overlay.name for overlay in overlays)])
        raise PolicyError(merged, "", first_error(exc)) from None


def _overlay_place(exc: ValidationError, versions: list[dict]) -> tuple[str, str] | None:
    """(path, reason) of the merged policy's first error in the terms of the one overlay it
    came through — `changes.…`, a list item by its id as overlays name them — when the error
    lies inside a version (the packaged policy alone validates, so the overlay brought it).
    The merged path (`versions[0]…programs[1].ratoi`) names neither the overlay's place nor
    its item."""
    err = exc.errors(include_url=False)[0]
    loc = [p for p in err["loc"] if not (isinstance(p, str) and p.startswith("function-"))]
    if len(loc) < 3 or loc[0] != "versions" or not isinstance(loc[1], int):
        return None
    path, node = "changes", versions[loc[1]]
    for part in loc[2:]:
        if isinstance(part, int) and isinstance(node, list) and part < len(node):
            item = node[part]
            named = isinstance(item, dict) and "id" in item
            path += f"[id={item['id']}]" if named else f"[{part}]"
            node = item
        else:
            path += f".{part}"
            node = node.get(part) if isinstance(node, dict) else None
    return path, err["msg"].removeprefix("Value error, ")


def load_with_overlays(region: str, overlays: tuple[Path, ...]) -> RegionPolicy:
    """The packaged policy of `region` with reform overlays merged over it, in order."""
    if not overlays:
        return load_region(region)
    load_region(region)  # the packaged file itself must be valid, before any overlay
    return parse_region(packaged_text(REGIONS, region), f"{region}.yaml", overlays)


class _BadDate(yaml.constructor.ConstructorError):
    """A date-shaped scalar that is no day of the calendar (2017-13-01, 2017-02-30)."""


class _DateCheckingLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """The safe loader, except that an impossible date names its line instead of raising a
    bare ValueError from YAML's timestamp parsing, before any check of ours could run."""


def _timestamp(loader: Any, node: yaml.Node) -> Any:
    try:
        return yaml.constructor.SafeConstructor.construct_yaml_timestamp(loader, node)
    except ValueError as exc:
        problem = f"{node.value!r} is not a date ({exc})"
        raise _BadDate(None, None, problem, node.start_mark) from None


_DateCheckingLoader.add_constructor("tag:yaml.org,2002:timestamp", _timestamp)


def read_yaml(text: str, file: str) -> Any:
    try:
        return yaml.load(text, Loader=_DateCheckingLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark else ""
        problem = getattr(exc, "problem", exc)
        reason = problem if isinstance(exc, _BadDate) else f"not valid YAML: {problem}"
        raise PolicyError(file, where, reason) from None


def yaml_of(text: str, file: str, error: type[ValueError]) -> Any:
    """A packaged terms file's YAML; unreadable YAML is `error`, naming the file."""
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise error(f"{file}: not valid YAML ({exc})") from None


def validated(model: type[M], raw: Any, file: str, error: type[ValueError]) -> M:
    """`raw` as a `model` (a packaged terms file); a refusal is `error`, one line naming the
    file, the path inside it and the reason."""
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        raise error(f"{file}: {first_error(exc)}") from None


def fill_seed(node: Any, seed: str) -> None:
    """A `source:` without `seed:` quotes the region's own seed file."""
    if isinstance(node, list):
        for item in node:
            fill_seed(item, seed)
    elif isinstance(node, dict):
        for key, value in node.items():
            if key == "source":
                for src in value if isinstance(value, list) else [value]:
                    if isinstance(src, dict):
                        src.setdefault("seed", seed)
            else:
                fill_seed(value, seed)


def fill_seeds(node: Any) -> Any:
    """A copy of parsed YAML where every `{rule, quote}` source without `seed:` names the
    seed of its rule id (`TL-05` → the Tongliao seed): for files that quote several seeds."""
    if isinstance(node, list):
        return [fill_seeds(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {key: fill_seeds(value) for key, value in node.items()}
    if "rule" in out and "quote" in out and "seed" not in out:
        out["seed"] = SEED_OF_PREFIX.get(str(out["rule"])[:2])
    return out


def _resolve_versions(raw_versions: Any, file: str) -> list[dict]:
    """Later versions list only their `changes:`, merged over the version before."""
    if not isinstance(raw_versions, list) or not raw_versions:
        raise PolicyError(file, "versions", "must be a non-empty list")
    resolved: list[dict] = []
    for i, raw in enumerate(raw_versions):
        where = f"versions[{i}]"
        if not isinstance(raw, dict):
            raise PolicyError(file, where, "must be a mapping")
        head = {key: raw[key] for key in VERSION_KEYS if key in raw}
        if "changes" in raw:
            if not resolved:
                raise PolicyError(file, where, "the first version must be complete, not changes:")
            extra = set(raw) - {*VERSION_KEYS, "changes"}
            if extra:
                raise PolicyError(file, where, f"unknown keys beside changes: {sorted(extra)}")
            body = {k: v for k, v in resolved[-1].items() if k not in VERSION_KEYS}
            try:
                body = merge(body, raw["changes"], f"{where}.changes")
            except MergeError as exc:
                raise PolicyError(file, exc.path, exc.reason) from None
            resolved.append({**head, **body})
        else:
            resolved.append(dict(raw))
    return resolved


def _check_continuity(versions: list[dict], file: str) -> None:
    """Versions follow each other day by day; only the newest is open-ended."""
    for i, version in enumerate(versions):
        start, end = version.get("valid_from"), version.get("valid_to")
        where = f"versions[{i}]"
        if not isinstance(start, dt.date):
            raise PolicyError(file, f"{where}.valid_from", "must be a date (YYYY-MM-DD)")
        last = i == len(versions) - 1
        if end is None and not last:
            raise PolicyError(file, f"{where}.valid_to", "only the newest version may be open")
        if end is not None and (not isinstance(end, dt.date) or end < start):
            raise PolicyError(file, f"{where}.valid_to", "must be a date on or after valid_from")
        if i:
            previous_end = versions[i - 1]["valid_to"]
            expected = previous_end + dt.timedelta(days=1)
            if start != expected:
                kind = "overlaps" if start < expected else "leaves a gap after"
                raise PolicyError(
                    file, f"{where}.valid_from", f"{start} {kind} the version ending {previous_end}"
                )


def _check_schemes(changes: object, versions: list[dict], name: str, region: str | None) -> None:
    """An overlay may change the schemes the region runs, not add one (it would lack every
    part the overlay does not name)."""
    named = changes.get("schemes") if isinstance(changes, dict) else None
    run = {scheme for version in versions for scheme in version.get("schemes") or {}}
    for scheme in named or {}:
        if scheme not in run:
            known = ", ".join(sorted(run))
            reason = f"{region} runs no {scheme} scheme (it runs: {known})"
            raise PolicyError(name, f"changes.schemes.{scheme}", reason)


def _overlay_start(value: object, name: str) -> dt.date | None:
    """The overlay's `from:` date (None: every version)."""
    if value is None:
        return None
    if isinstance(value, str):  # quoted in the YAML
        with contextlib.suppress(ValueError):
            value = dt.date.fromisoformat(value.strip())
    if not isinstance(value, dt.date) or isinstance(value, dt.datetime):
        raise PolicyError(name, "from", f"{value!r} is not a date (YYYY-MM-DD)")
    return value


def _apply_overlay(
    versions: list[dict], overlay: Path, region: str | None, seed: str
) -> list[dict]:
    """Merge a reform overlay's `changes:` into every version it covers: all of them, or those
    in force from its `from:` date on — a version in force on that date is split there."""
    name = overlay.name
    raw = read_yaml(read_policy_text(overlay), name)
    if not isinstance(raw, dict) or "changes" not in raw:
        raise PolicyError(name, "", "an overlay needs `changes:` (and optionally region, from)")
    extra = set(raw) - {"region", "name", "description", "from", "changes"}
    if extra:
        raise PolicyError(name, "", f"unknown keys {sorted(extra)}")
    if raw.get("region") not in (None, region):
        raise PolicyError(name, "region", f"is for {raw['region']!r}, not {region!r}")
    start = _overlay_start(raw.get("from"), name)
    changes = raw["changes"]
    if not isinstance(changes, dict):
        raise PolicyError(name, "changes", "must be a mapping (the parts of a version to change)")
    dated = [key for key in VERSION_KEYS if key in changes]
    if dated:
        # the version's dates and label are the packaged policy's; a reform starts with `from:`
        reason = "an overlay changes rules, not a version's dates or label (start it with from:)"
        raise PolicyError(name, f"changes.{dated[0]}", reason)
    fill_seed(changes, seed)
    out = []
    _check_schemes(changes, versions, name, region)
    for version in versions:
        ends = version.get("valid_to")
        if start is not None and ends is not None and ends < start:
            out.append(version)
            continue
        if start is not None and version["valid_from"] < start:
            # the reform begins inside this version: its days before `from` stay as they were
            out.append({**version, "valid_to": start - dt.timedelta(days=1)})
            label = f"{version['label']} + {name} from {start.isoformat()}"
            version = {**version, "valid_from": start, "label": label}
        try:
            out.append(merge(version, changes, "changes", overlay=name))
        except MergeError as exc:
            raise PolicyError(name, exc.path, exc.reason) from None
    return out
