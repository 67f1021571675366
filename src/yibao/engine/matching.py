"""Does a policy condition (disease list, level, categories) hold for this claim?"""

from __future__ import annotations

from yibao.engine.inputs import Claim, Person
from yibao.policy.schema import BenefitMatch, Disease, DiseaseList


def find_disease(
    diseases: DiseaseList, claim: Claim, person: Person, age: int | None
) -> Disease | None:
    """The listed disease this claim is for: by the claim's `disease` code, else by its
    diagnoses in their order — the primary diagnosis first, so a diabetes visit that also
    lists hypertension is a diabetes visit (the list's order only breaks a tie on one code).
    The `disease` code names a listed disease; it is no ICD code, so it is not matched by
    prefix (QA: `child_cerebral_palsy` on an 18-year-old began with C and was paid as 恶性肿瘤)."""
    for disease in diseases.items:
        if claim.disease is not None and claim.disease == disease.code:
            return disease if _person_fits(disease, person, age) else None
    for code in claim.diagnoses:
        for disease in diseases.items:
            prefixes = tuple(disease.icd)
            if prefixes and code.startswith(prefixes) and _person_fits(disease, person, age):
                return disease
    return None


def groups_claimed(diseases: DiseaseList, claim: Claim) -> set[str]:
    """Every disease group the claim shows, by its `disease` code or its diagnoses' ICD
    prefixes (one visit may show both 两病)."""
    return {
        d.group
        for d in diseases.items
        if d.group
        and (claim.disease == d.code or any(c.startswith(tuple(d.icd)) for c in claim.diagnoses))
    }


def _person_fits(disease: Disease, person: Person, age: int | None) -> bool:
    if disease.sex and person.sex and disease.sex != person.sex:
        return False
    return not (disease.max_age is not None and age is not None and age > disease.max_age)


def benefit_matches(
    match: BenefitMatch | None, claim: Claim, person: Person, age: int | None
) -> tuple[bool, Disease | None]:
    """Whether a pooling benefit's extra conditions hold, and the disease that made it so."""
    if match is None:
        return True, None
    if match.levels and claim.level not in match.levels:
        return False, None
    if match.in_region_only and claim.out_of_region:
        return False, None
    if match.requires_person_flag and match.requires_person_flag not in person.flags:
        return False, None
    if match.diseases is None:
        return True, None
    disease = find_disease(match.diseases, claim, person, age)
    return disease is not None, disease


def mismatch(match: BenefitMatch, claim: Claim, person: Person) -> str:
    """Why `benefit_matches` is False, in a clerk's words (for the trace)."""
    if match.levels and claim.level not in match.levels:
        return f"level {claim.level} is not among its levels {match.levels}"
    if match.in_region_only and claim.out_of_region:
        return "it is for treatment in the region only"
    if match.requires_person_flag and match.requires_person_flag not in person.flags:
        return f"the person lacks the flag {match.requires_person_flag!r}"
    if claim.disease and match.diseases is not None:
        codes = [d.code for d in match.diseases.items]
        if claim.disease not in codes:  # a code is matched exactly, not as an ICD prefix
            return f"its disease code {claim.disease!r} is none of its diseases {codes}"
    return "none of its diseases is on the claim"


def level_key(claim: Claim) -> str:
    """Admissions are counted per level; transfer-out (转外) counts as its own level."""
    return "out" if claim.out_of_region else str(claim.level)
