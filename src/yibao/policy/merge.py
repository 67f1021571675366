"""Deep merge of a partial policy over a full one: version changes and reform overlays.

Dicts merge key by key; lists of blocks with an `id` merge by id (a version's `changes:` may
add a block with a new id, a reform overlay may not); other lists are replaced.
A cited value that a patch changes takes the patch's provenance — never the old quote.
A reform overlay may set a value the policy lacks (a plain one is cited as the overlay), but
brings no block: a block the layers do not run would change nothing, silently.
"""

from __future__ import annotations

from typing import Any

from yibao.policy.provenance import LEVELS
from yibao.policy.schema import CITED_FIELDS, FIELDS

PROVENANCE_KEYS = frozenset({"source", "assumed", "reason", "overlay"})
CITED_KEYS = frozenset({"value", "by_level", "bands", "in_service", "retired"})


class MergeError(ValueError):
    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


def _is_cited(node: Any) -> bool:
    """A cited number (not a block that merely cites the sentence creating it)."""
    return isinstance(node, dict) and bool(
        PROVENANCE_KEYS & node.keys() and CITED_KEYS & node.keys()
    )


def _looks_cited(node: dict) -> bool:
    """A number's shape: `value`, `bands`, `in_service`, or a level table of plain numbers."""
    if {"value", "bands", "in_service"} & node.keys():
        return True
    table = node.get("by_level")
    return isinstance(table, dict) and not any(isinstance(v, dict) for v in table.values())


def stamp_overlay(patch: Any, overlay: str) -> Any:
    """Mark every value a reform overlay writes without provenance as coming from the overlay."""
    if isinstance(patch, list):
        return [stamp_overlay(item, overlay) for item in patch]
    if not isinstance(patch, dict):
        return patch
    stamped = {key: stamp_overlay(value, overlay) for key, value in patch.items()}
    if _looks_cited(stamped) and not PROVENANCE_KEYS & stamped.keys():
        stamped["overlay"] = overlay
    return stamped


def merge(base: Any, patch: Any, path: str = "", overlay: str | None = None) -> Any:
    """Return `base` with `patch` applied; `overlay` names the reform file, if any."""
    if _is_cited(base):
        return _merge_cited(base, patch, path, overlay)
    if isinstance(base, dict) and isinstance(patch, dict):
        merged = dict(base)
        for key, value in patch.items():
            sub = f"{path}.{key}" if path else str(key)
            if key in base:
                merged[key] = merge(base[key], value, sub, overlay)
            elif overlay:
                _refuse_new_blocks(key, value, sub)
                merged[key] = _new_value(key, value, overlay)
            else:
                merged[key] = value
        return merged
    if isinstance(base, list) and isinstance(patch, list) and _all_have_ids(base, patch):
        return _merge_by_id(base, patch, path, overlay)
    return patch


def _new_value(key: Any, value: Any, overlay: str) -> Any:
    """A value an overlay sets where the policy has none: a plain number of a cited field
    (`ratio_floor: 0.80`) is cited as the overlay, as it is where the policy has one."""
    if key in CITED_FIELDS and not isinstance(value, dict):
        return {"value": value, "overlay": overlay}
    return stamp_overlay(value, overlay)


def _merge_cited(base: dict, patch: Any, path: str, overlay: str | None) -> dict:
    if not isinstance(patch, dict):
        patch = {"value": patch}
    elif "by_level" in base and patch and not (CITED_KEYS | PROVENANCE_KEYS) & patch.keys():
        _check_levels(patch, path)
        patch = {"by_level": patch}  # `ratio.by_level: {3: 0.71}` means the level table
    elif isinstance(patch.get("by_level"), dict):
        _check_levels(patch["by_level"], f"{path}.by_level")
    if not PROVENANCE_KEYS & patch.keys():
        if overlay is None:
            raise MergeError(path, "changes a cited value without its own source: or assumed:")
        patch = {**patch, "overlay": overlay}
    merged = {key: value for key, value in base.items() if key not in PROVENANCE_KEYS}
    for key, value in patch.items():
        if key in merged and key not in PROVENANCE_KEYS:
            merged[key] = merge(merged[key], value, f"{path}.{key}", overlay)
        else:
            merged[key] = value
    return merged


def _check_levels(table: dict, path: str) -> None:
    """A level table's keys are hospital levels: a key 4 would be refused by the schema as
    "Keys should be strings", which names neither the level nor the rule."""
    for key in table:
        if key not in LEVELS:
            raise MergeError(path, f"{key!r} is no hospital level (levels are 1, 2 and 3)")


def _refuse_new_blocks(key: Any, value: Any, path: str) -> None:
    """An overlay writing a part the policy lacks may set values (`ratio_floor: 0.80`,
    `{value: …}`), not bring blocks — a mapping of settings, or items with an `id`: those it
    can only change, like `_merge_by_id`'s unknown ids (a new layer not in `layer_order`
    would do nothing, while the diff lists it)."""
    # a key no block has is a typo: the schema names it ("Extra inputs are not permitted")
    if isinstance(value, dict) and key in FIELDS and not _looks_cited(value):
        raise MergeError(
            path, "the policy has no such block here; an overlay changes blocks, it adds none"
        )
    if isinstance(value, list) and value and _all_have_ids(value):
        ids = ", ".join(str(item["id"]) for item in value)
        raise MergeError(
            f"{path}[id={ids}]", "the policy has no such blocks here; an overlay changes blocks"
        )


def _all_have_ids(*lists: list) -> bool:
    return all(isinstance(item, dict) and "id" in item for items in lists for item in items)


def _merge_by_id(base: list, patch: list, path: str, overlay: str | None) -> list:
    merged = list(base)
    index = {item["id"]: i for i, item in enumerate(base)}
    for item in patch:
        if item["id"] in index:
            i = index[item["id"]]
            merged[i] = merge(base[i], item, f"{path}[id={item['id']}]", overlay)
        elif overlay:
            # an overlay changes blocks, it does not add them: an unknown id is a typo, and
            # adding it would surface as a missing `name:` of a block the reader never wrote
            noun = path.rsplit(".", 1)[-1].removesuffix("s") or "block"
            known = ", ".join(str(block["id"]) for block in base)
            raise MergeError(f"{path}[id={item['id']}]", f"no {noun} with this id (known: {known})")
        else:
            merged.append(item)
    return merged
