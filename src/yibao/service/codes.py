"""National code tables the national flow reads (nhsa.md §3), kept as data per region.

Provinces extend the national tables with local codes, so a code we do not know is not
necessarily wrong: a region adds or overrides entries in `REGIONAL_MED_TYPES` /
`REGIONAL_CHRGITM_LV` without touching the national defaults or any code.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class MedType:
    """A national 医疗类别 and how the engine settles it."""

    engine: (
        str  # the engine's med_type: 11 outpatient, 14 chronic/special, 21 inpatient, 41 pharmacy
    )
    name: str
    referral: bool = False  # the code itself says the stay was referred (转外诊治)

    @property
    def inpatient(self) -> bool:
        return self.engine == "21"


# 7.28 医疗类别: the national core codes the engine can settle (生育 51–53 it cannot).
NATIONAL_MED_TYPES: dict[str, MedType] = {
    "11": MedType("11", "普通门诊"),
    "12": MedType("11", "门诊挂号"),
    "13": MedType("11", "急诊"),
    "14": MedType("14", "门诊慢特病"),
    "21": MedType("21", "普通住院"),
    "22": MedType("21", "外伤住院"),
    "23": MedType("21", "转外诊治住院", referral=True),
    "24": MedType("21", "急诊转住院"),
    "41": MedType("41", "定点药店购药"),
}

# Local codes by region id (e.g. a province's 9901 重大疾病门诊 → MedType("14", ...)).
REGIONAL_MED_TYPES: dict[str, dict[str, MedType]] = {
    "tongliao": {},
    "qingdao": {},
    "fuxin": {},
    "erenhot": {},
    "liaoyang": {},
}

# 收费项目等级 on the wire → catalogue class. Some HIS send the 1/2/3 they store internally.
NATIONAL_CHRGITM_LV: dict[str, str] = {
    "01": "A",
    "02": "B",
    "03": "C",
    "1": "A",
    "2": "B",
    "3": "C",
}
REGIONAL_CHRGITM_LV: dict[str, dict[str, str]] = {}
CLASS_TO_CHRGITM_LV = {"A": "01", "B": "02", "C": "03"}


def med_types(region: str) -> dict[str, MedType]:
    return NATIONAL_MED_TYPES | REGIONAL_MED_TYPES.get(region, {})


def medical_type(region: str, code: str) -> MedType | None:
    """The region's meaning of a national med_type code, or None when it has none."""
    return med_types(region).get(code)


def item_class(region: str, chrgitm_lv: str) -> str | None:
    """Catalogue class (A/B/C) of a 收费项目等级, or None for a code the region does not use."""
    return (NATIONAL_CHRGITM_LV | REGIONAL_CHRGITM_LV.get(region, {})).get(chrgitm_lv.strip())
