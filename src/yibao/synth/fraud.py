"""Planted fraud patterns: each claim drawn for one gets the pattern for real, and a label.

`claims.pattern` was drawn with the claims (off unless a fraud rate is given); here the lines
are changed so the pattern is in the data, and the lines that show it get `fraud_label`, named
like the supervision rule that should find it:

- `split_hospitalization` — a second admission 1–14 days after discharge, same diagnosis,
  same hospital (both admissions' lines are labelled; the pair is laid out in `claims`);
- `bed_hanging` — a stay billed only for bed and nursing days (all its lines);
- `charge_outside_stay` — one line of a stay dated 1–10 days before admission or after discharge;
- `over_price_limit` — a bed day charged 1.5–2.5 times its price limit;
- `duplicate_charge` — one line billed twice (the copy is labelled);
- `sex_age_mismatch` — progesterone with an obstetric diagnosis for a man, or a children's
  medicine (≤ 14) for someone older (the added line);
- `pharmacy_non_medical` — daily goods (shampoo, protein powder) on a pharmacy bill;
- `drug_substitution` — a drug whose class the visit's diagnosis does not call for (metformin,
  or methotrexate for a diabetic; the added line);
- `disease_substitution` — a chronic visit settled under another, better-paid special disease
  (`claims._substitutions`; every line of the claim);
- `low_standard_admission` — a 1–3 day stay for a cold or gastritis costing a few hundred yuan
  (`claims._low_standard`; every line);
- `deceased_person` / `unenrolled_person` — a person's `death_date` / `enrolled_until` set 1–60
  days before their last line; the lines after it (`plant_identity`);
- `two_places_one_day` — the card used at two more clinics on the day of a general visit
  (冒名就医): two companion visits at two other local clinics, same date (`plant_two_places`;
  every line of the three claims);
- `overlapping_stays` — a second stay billed at another local hospital of the same level,
  inside the dates of a real stay (`plant_overlapping_stays`; every line of both stays);
- `over_frequency` — a person's visits at their home clinic on free days of one calendar month,
  up to 1–4 more than the rule's threshold (`plant_over_frequency`; every line of every visit
  the rule counts in that month, the person's own visits too);
- fraudulent institutions (no line label: `fraudulent_institutions` names them) — costlier
  stays, more re-admissions (labelled `split_hospitalization`) and B/C items (`upcode`).

All of it happens only with a fraud rate above 0; without one the output is unchanged.
"""

from __future__ import annotations

import polars as pl

from yibao.synth import care
from yibao.synth import claims as claim_mod
from yibao.synth.draws import Draws, key
from yibao.synth.plan import Plan

WHOLE_CLAIM = (
    "split_hospitalization",
    "bed_hanging",
    "disease_substitution",
    "low_standard_admission",
    "two_places_one_day",
    "overlapping_stays",
    "over_frequency",
)

PLANTED = 5  # line role of an added line (see lines.ROLE)

# claim kinds of planted companion claims (`claims.KIND` uses 1–5 of the key's 3 bits)
COMPANION_VISIT = 6  # j = 2 × the general visit's j + 0 / 1
COMPANION_STAY = 7  # j = the stay's j
COMPANION_PART = 2  # `part` of a companion stay (0: a stay, 1: a planted re-admission)


def plant(
    plan: Plan, draws: Draws, lines: pl.DataFrame, claims: pl.DataFrame, catalog: pl.DataFrame
) -> pl.DataFrame:
    lines = lines.with_columns(fraud_label=pl.lit(None, pl.String))
    if claims.get_column("pattern").is_null().all():
        return lines
    info = _patterns(plan, draws, claims.filter(pl.col("pattern").is_not_null()))
    touched = pl.col("c").is_in(info["c"].implode())
    clean = lines.filter(~touched)
    lines = lines.filter(touched).join(info, on="c", maintain_order="left")
    pattern = pl.col("pattern")
    first_variable = (pl.col("role") == 4) & (
        pl.col("slot") == pl.col("slot").filter(pl.col("role") == 4).min().over("c")
    )
    first_bed = (pl.col("role") == 1) & (pl.col("slot") == 0)

    # over the limit: the first bed day at 1.5–2.5 × its limit, in whole yuan
    limits = catalog.select("code", limit="price_limit_fen")
    lines = lines.join(limits, on="code", how="left", maintain_order="left")
    lk = key((pl.col("ck"), 50), (pl.col("slot"), 12))
    low, high = care.OVER_LIMIT_FACTOR
    factor = low + (high - low) * draws.uniform(lk, "fraud/over_limit")
    over = pl.col("limit") * factor
    over = ((over / 100).ceil() * 100).cast(pl.Int64)
    hit_over = (pattern == "over_price_limit") & first_bed & pl.col("limit").is_not_null()
    lines = lines.with_columns(
        price_fen=pl.when(hit_over).then(over).otherwise(pl.col("price_fen")),
        fraud_label=pl.when(hit_over).then(pl.lit("over_price_limit")).otherwise("fraud_label"),
    )
    # outside the stay: the first variable line moves before admission or after discharge
    hit_out = (pattern == "charge_outside_stay") & first_variable
    lines = lines.with_columns(
        item_date=pl.when(hit_out).then(pl.col("outside_date")).otherwise(pl.col("item_date")),
        fraud_label=pl.when(hit_out).then(pl.lit("charge_outside_stay")).otherwise("fraud_label"),
    )
    # whole claims
    whole = pattern.is_in(list(WHOLE_CLAIM))
    lines = lines.with_columns(
        fraud_label=pl.when(whole).then(pattern).otherwise(pl.col("fraud_label"))
    )
    # a copy of the first variable line
    copies = lines.filter((pattern == "duplicate_charge") & first_variable).with_columns(
        role=pl.lit(PLANTED, pl.Int8), fraud_label=pl.lit("duplicate_charge")
    )
    added = _added_lines(draws, claims, info)
    keep = [c for c in lines.columns if c not in ("pattern", "outside_date", "limit")]
    planted = [lines.select(keep), copies.select(keep), added.select(keep)]
    return pl.concat([clean, *planted], how="vertical_relaxed")


def _patterns(plan: Plan, draws: Draws, claims: pl.DataFrame) -> pl.DataFrame:
    """Each claim's effective pattern: a stay that has no room outside it gets a duplicate."""
    k = pl.col("ck")
    shift = pl.duration(days=draws.integer(k, "fraud/outside_days", *care.OUTSIDE_STAY_DAYS))
    before = pl.col("admit_date") - shift
    after = pl.col("discharge_date") + shift
    outside = (
        pl.when(before >= pl.lit(plan.start))
        .then(before)
        .when(after <= pl.lit(plan.end))
        .then(after)
    )
    info = claims.select("c", "pattern", outside_date=outside)
    stuck = (pl.col("pattern") == "charge_outside_stay") & pl.col("outside_date").is_null()
    return info.with_columns(
        pattern=pl.when(stuck).then(pl.lit("duplicate_charge")).otherwise(pl.col("pattern"))
    )


def _added_lines(draws: Draws, claims: pl.DataFrame, info: pl.DataFrame) -> pl.DataFrame:
    """The line a sex/age mismatch, a pharmacy's daily goods or a substituted drug adds."""
    wanted = info.select("c", "pattern").join(
        claims.select("c", "ck", "sex", "date", "diagnoses"), on="c"
    )
    added = ["sex_age_mismatch", "pharmacy_non_medical", "drug_substitution"]
    wanted = wanted.filter(pl.col("pattern").is_in(added))
    k = pl.col("ck")
    goods = pl.when(draws.uniform(k, "fraud/goods") < 0.5).then(pl.lit(care.DAILY_GOODS[0]))
    goods = goods.otherwise(pl.lit(care.DAILY_GOODS[1]))
    wrong = pl.when(pl.col("sex") == "M").then(pl.lit(care.WRONG_SEX_ITEM[0]))
    wrong = wrong.otherwise(pl.lit(care.WRONG_AGE_ITEM))
    diabetic = pl.col("diagnoses").list.eval(pl.element().str.starts_with("E1")).list.any()
    drug = pl.when(diabetic.fill_null(False)).then(pl.lit(care.SUBSTITUTED_DRUGS[1]))
    drug = drug.otherwise(pl.lit(care.SUBSTITUTED_DRUGS[0]))
    code = (
        pl.when(pl.col("pattern") == "pharmacy_non_medical")
        .then(goods)
        .when(pl.col("pattern") == "drug_substitution")
        .then(drug)
        .otherwise(wrong)
    )
    typical = code.replace_strict(care.PRICES, default=1000, return_dtype=pl.Float64)
    price = (typical * (draws.normal(k, "fraud/price") * care.PRICE_JITTER).exp()).round(0)
    return wanted.select(
        "c",
        "ck",
        role=pl.lit(PLANTED, pl.Int8),
        slot=pl.lit(1, pl.Int64),
        code=code,
        price_fen=price.cast(pl.Int64),
        quantity=draws.integer(k, "fraud/quantity", 1, 3),
        item_date=pl.col("date"),
        fraud_label=pl.col("pattern"),
    )


def upcode(variable: pl.DataFrame, claims: pl.DataFrame, fraudulent: tuple[str, ...]):
    """Variable lines of unpatterned claims at fraudulent institutions billed as the B/C item
    of `care.UPCODE` instead of the A item, for about the same amount (the quantity scaled)."""
    at = claims.filter(
        pl.col("institution").is_in(list(fraudulent)) & pl.col("pattern").is_null()
    ).get_column("c")
    hit = pl.col("c").is_in(at.implode()) & pl.col("code").is_in(list(care.UPCODE))
    code = pl.col("code").replace(care.UPCODE)
    price = code.replace_strict(care.PRICES, default=1000, return_dtype=pl.Int64)
    same = (pl.col("quantity") * pl.col("price_fen") / price).round(0).clip(1, None)
    return variable.with_columns(
        code=pl.when(hit).then(code).otherwise(pl.col("code")),
        price_fen=pl.when(hit).then(price).otherwise(pl.col("price_fen")),
        quantity=pl.when(hit).then(same.cast(pl.Int64)).otherwise(pl.col("quantity")),
    )


def fraudulent_institutions(plan: Plan, draws: Draws) -> tuple[str, ...]:
    """The local hospitals planted as fraudulent: `care.FRAUD_INSTITUTION_SHARE` (at least one)
    of each level that has at least `care.FRAUD_INSTITUTION_MIN` hospitals, by a seeded draw."""
    chosen: list[str] = []
    for level in ("1", "2", "3"):
        n = plan.institutions[level]
        if n < care.FRAUD_INSTITUTION_MIN:
            continue
        wanted = max(1, round(n * care.FRAUD_INSTITUTION_SHARE))
        seq = pl.DataFrame({"seq": pl.int_range(0, n, eager=True, dtype=pl.Int64)})
        u = draws.uniform(key((int(level), 2), (pl.col("seq"), 30)), "fraud/institution")
        picked = seq.with_columns(u=u).sort("u", "seq").head(wanted).sort("seq")
        chosen += [f"H{plan.admin_code}{level}{s:04d}" for s in picked["seq"]]
    return tuple(chosen)


def plant_identity(
    draws: Draws, persons: pl.DataFrame, lines: pl.DataFrame, rate: float
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """`death_date` / `enrolled_until` of planted persons (null for everybody else), and the
    labels of their lines dated after it. Persons with another planted pattern are skipped."""
    none = pl.lit(None, pl.Date)
    if rate <= 0 or lines.height == 0:
        return persons.with_columns(death_date=none, enrolled_until=none), lines
    k = key((pl.col("p"), 34))
    share = rate * care.IDENTITY_SHARE
    u = draws.uniform(k, "fraud/identity")
    kind = (
        pl.when(u < share)
        .then(pl.lit("deceased_person"))
        .when(u < 2 * share)
        .then(pl.lit("unenrolled_person"))
    )
    chosen = persons.select(
        "person_id", kind=kind, back=draws.integer(k, "fraud/identity_days", *care.IDENTITY_DAYS)
    ).filter(pl.col("kind").is_not_null())
    day = pl.coalesce("item_date", "date")
    history = lines.group_by("person_id").agg(
        last=day.max(), labelled=pl.col("fraud_label").is_not_null().any()
    )
    chosen = chosen.join(history, on="person_id").filter(~pl.col("labelled"))
    chosen = chosen.select("person_id", "kind", cutoff=pl.col("last") - pl.duration(days="back"))
    lines = lines.join(chosen, on="person_id", how="left", maintain_order="left")
    late = pl.col("kind").is_not_null() & (day > pl.col("cutoff"))
    lines = lines.with_columns(
        fraud_label=pl.when(late).then(pl.col("kind")).otherwise(pl.col("fraud_label"))
    ).drop("kind", "cutoff")
    dates = chosen.select(
        "person_id",
        death_date=pl.when(pl.col("kind") == "deceased_person").then("cutoff"),
        enrolled_until=pl.when(pl.col("kind") == "unenrolled_person").then("cutoff"),
    )
    persons = persons.join(dates, on="person_id", how="left", maintain_order="left")
    return persons, lines


# ---------------------------------------------------------------- claims planted with companions
def plant_two_places(plan: Plan, draws: Draws, visits: pl.DataFrame, rate: float) -> pl.DataFrame:
    """冒名就医: general visits without a pattern drawn (own stream, as likely as one outpatient
    pattern) get two companion visits the same day at two other local level-1 clinics."""
    if rate <= 0 or visits.height == 0:
        return visits
    share = rate / len(care.OUTPATIENT_PATTERNS)
    k = pl.col("ck")
    hit = (
        (pl.col("kind") == claim_mod.KIND["11"])
        & pl.col("pattern").is_null()
        & (pl.col("j") < 1 << 12)  # the companions' j (2j, 2j + 1) must fit 13 bits
        & (draws.uniform(k, "fraud/two_places") < share)
    )
    label = pl.lit("two_places_one_day")
    visits = visits.with_columns(pattern=pl.when(hit).then(label).otherwise(pl.col("pattern")))
    chosen = visits.filter(pl.col("pattern") == "two_places_one_day")
    if chosen.height == 0:
        return visits
    n1 = plan.institutions["1"]
    clinic = f"H{plan.admin_code}1"
    at = pl.col("institution")
    own = pl.when(at.str.starts_with(clinic)).then(at.str.slice(len(clinic)).cast(pl.Int64))
    base = ["p", "scheme", "sex", "band", "birth_date", "chronic", "flags"]
    base += ["home_clinic", "home_pharmacy"]
    companions = (
        chosen.select(
            *base,
            "j",
            day="date",
            seq=own.otherwise(pl.col("home_clinic")),
            r=draws.integer(k, "fraud/two_places_clinic", 0, n1 - 2),
            m=pl.lit([0, 1], pl.List(pl.Int64)),
        )
        .explode("m")
        .with_columns(kind=pl.lit(COMPANION_VISIT, pl.Int8), j=2 * pl.col("j") + pl.col("m"))
    )
    companions = claim_mod._general(plan, draws, companions)
    # offsets 1 … n1 − 1 from the visit's clinic, different for the two companions
    seq = (pl.col("seq") + 1 + (pl.col("r") + pl.col("m")) % (n1 - 1)) % n1
    companions = companions.with_columns(
        date=pl.col("day"),
        age=claim_mod._age_on(pl.col("day")),
        out_of_region=pl.lit(False),
        referral=pl.lit(False),
        hospital_level=pl.lit(1, pl.Int8),
        institution=pl.lit(clinic) + seq.cast(pl.String).str.zfill(4),
        pattern=label,
    ).drop("day", "seq", "r", "m")
    return pl.concat([visits, companions], how="diagonal_relaxed")


def plant_overlapping_stays(
    plan: Plan, draws: Draws, stays: pl.DataFrame, rate: float
) -> pl.DataFrame:
    """Stays without a pattern drawn (own stream, as likely as one inpatient pattern) get a
    companion stay at another local hospital of the same level, admitted on one of the stay's
    days and discharged no later (a stay billed twice: the person cannot lie in both beds)."""
    if rate <= 0 or stays.height == 0:
        return stays
    share = rate / len(care.INPATIENT_PATTERNS)
    k = pl.col("ck")
    hit = (
        (pl.col("part") == 0)
        & pl.col("pattern").is_null()
        & (draws.uniform(k, "fraud/overlap") < share)
    )
    label = pl.lit("overlapping_stays")
    stays = stays.with_columns(pattern=pl.when(hit).then(label).otherwise(pl.col("pattern")))
    chosen = stays.filter(pl.col("pattern") == "overlapping_stays")
    if chosen.height == 0:
        return stays
    ck2 = claim_mod.claim_key(COMPANION_STAY)
    start = draws.integer(ck2, "fraud/overlap_start", 0, pl.col("los") - 1)
    level = pl.col("hospital_level")
    sizes = pl.lit(None, pl.Int64)
    for lv in ("1", "2", "3"):
        sizes = pl.when(level == int(lv)).then(plan.institutions[lv]).otherwise(sizes)
    prefix = pl.format("H{}{}", pl.lit(plan.admin_code), level)
    at = pl.col("institution")
    own = pl.when(at.str.starts_with(prefix)).then(at.str.slice(8).cast(pl.Int64)).otherwise(0)
    other = (own + 1 + draws.integer(ck2, "fraud/overlap_hospital", 0, sizes - 2)) % sizes
    companions = chosen.with_columns(
        kind=pl.lit(COMPANION_STAY, pl.Int8),
        part=pl.lit(COMPANION_PART, pl.Int8),
        ck=ck2,
        admit_date=pl.col("admit_date") + pl.duration(days=start),
        los2=draws.integer(ck2, "fraud/overlap_los", 1, pl.col("los") - start),
        institution=prefix + other.cast(pl.String).str.zfill(4),
        out_of_region=pl.lit(False),
        referral=pl.lit(False),
    ).with_columns(
        discharge_date=pl.col("admit_date") + pl.duration(days=pl.col("los2")),
        target=pl.col("target") * pl.col("los2") / pl.col("los"),
        los=pl.col("los2"),
    )
    companions = companions.with_columns(
        date=pl.col("discharge_date"), age=claim_mod._age_on(pl.col("discharge_date"))
    ).select(stays.columns)
    return pl.concat([stays, companions], how="vertical_relaxed")


# ---------------------------------------------------------------- over-frequent visits
FREQUENT_VISIT = 0  # claim kind of a planted extra visit (unused by `claims.KIND`); j = 0, 1, …
OVER_FREQUENCY_SHARE = 0.1  # of the persons, rate × this share are planted
OVER_FREQUENCY_MARGIN = (1, 4)  # the month's visits: the rule's threshold + 1 … + 4


def _frequency_rule(region: str) -> tuple[int, list[str]]:
    """The `over_frequency` rule's threshold and counted med types in `region` (the planted
    month must exceed exactly what the rule counts)."""
    from yibao.supervision.params import rules_for

    rule = rules_for(region)["over_frequency"]
    return int(rule.p("max_visits_per_month")), list(rule.p("med_types"))


def plant_over_frequency(
    plan: Plan,
    draws: Draws,
    persons: pl.DataFrame,
    visits: pl.DataFrame,
    stays: pl.DataFrame,
    rate: float,
) -> pl.DataFrame:
    """超频次就诊: persons (own stream, rate × `OVER_FREQUENCY_SHARE`) without any planted
    pattern, nor drawn by `plant_identity`, get extra general visits at their home clinic in
    one calendar month, until the month holds threshold + 1 … + 4 counted visits; every
    counted visit of that month is labelled (what the rule names). The extra visits fall on
    days with no other claim and outside every stay, so no other rule sees them; a person
    without enough such days that month is skipped."""
    if rate <= 0 or persons.height == 0 or visits.height == 0:
        return visits
    most, med_types = _frequency_rule(plan.region)
    k = key((pl.col("p"), 34))
    hit = draws.uniform(k, "fraud/over_frequency") < rate * OVER_FREQUENCY_SHARE
    # persons `plant_identity` draws stay its own (it skips labelled persons)
    hit = hit & (draws.uniform(k, "fraud/identity") >= 2 * rate * care.IDENTITY_SHARE)
    day = pl.lit(plan.start) + pl.duration(
        days=draws.integer(k, "fraud/over_frequency_day", 0, plan.days - 1)
    )
    low, high = OVER_FREQUENCY_MARGIN
    chosen = persons.filter(hit).select(
        "p",
        m0=pl.max_horizontal(day.dt.month_start(), pl.lit(plan.start)),
        m1=pl.min_horizontal(day.dt.month_end(), pl.lit(plan.end)),
        total=most + draws.integer(k, "fraud/over_frequency_count", low, high),
    )
    patterned = pl.concat(
        [f.filter(pl.col("pattern").is_not_null()).select("p") for f in (visits, stays) if f.height]
    )
    chosen = chosen.join(patterned, on="p", how="anti")
    if chosen.height == 0:
        return visits
    in_month = pl.col("date").is_between(pl.col("m0"), pl.col("m1"))
    counted = pl.col("med_type").is_in(med_types) & in_month
    existing = visits.join(chosen, on="p").filter(counted).group_by("p").agg(n0=pl.len())
    chosen = chosen.join(existing, on="p", how="left").with_columns(
        extra=(pl.col("total") - pl.col("n0").fill_null(0)).clip(1, None)
    )
    days = _free_days(plan, draws, chosen, visits, stays)
    extra = days.join(chosen.select("p", "extra"), on="p").filter(pl.col("rank") < pl.col("extra"))
    enough = extra.group_by("p").agg(n=pl.len()).join(chosen, on="p")
    enough = enough.filter(pl.col("n") == pl.col("extra")).select("p", "m0", "m1")
    label = pl.lit("over_frequency")
    marked = pl.col("p").is_in(enough["p"].implode())
    visits = visits.join(enough, on="p", how="left", maintain_order="left")
    visits = visits.with_columns(
        pattern=pl.when(marked & counted.fill_null(False)).then(label).otherwise("pattern")
    ).drop("m0", "m1")
    added = _frequent_visits(plan, draws, persons, extra.join(enough.select("p"), on="p"))
    return pl.concat([visits, added.with_columns(pattern=label)], how="diagonal_relaxed")


def _free_days(
    plan: Plan, draws: Draws, chosen: pl.DataFrame, visits: pl.DataFrame, stays: pl.DataFrame
) -> pl.DataFrame:
    """(p, date, rank) of each chosen person's days in the month with no claim and outside
    every stay, ranked by a seeded draw (rank 0 first)."""
    days = chosen.select("p", date=pl.date_ranges("m0", "m1")).explode("date")
    busy = [visits.select("p", "date")]
    if stays.height:
        spans = stays.join(chosen.select("p"), on="p").select(
            "p",
            date=pl.date_ranges(
                pl.min_horizontal("admit_date", "block_start"),
                pl.max_horizontal("discharge_date", "block_end"),
            ),
        )
        busy.append(spans.explode("date"))
    days = days.join(pl.concat(busy), on=["p", "date"], how="anti")
    offset = (pl.col("date") - pl.lit(plan.start)).dt.total_days()
    u = draws.uniform(key((pl.col("p"), 34), (offset, 10)), "fraud/over_frequency_pick")
    return (
        days.with_columns(u=u)
        .sort("p", "u", "date")
        .with_columns(rank=pl.int_range(pl.len()).over("p"))
        .drop("u")
    )


def _frequent_visits(
    plan: Plan, draws: Draws, persons: pl.DataFrame, extra: pl.DataFrame
) -> pl.DataFrame:
    """General visits at the person's home clinic (level 1, local) on the given days."""
    base = ["p", "scheme", "sex", "band", "birth_date", "chronic", "flags"]
    base += ["home_clinic", "home_pharmacy"]
    frame = extra.select("p", "date", j=pl.col("rank").cast(pl.Int64)).join(
        persons.select(base), on="p"
    )
    frame = frame.rename({"date": "day"}).with_columns(kind=pl.lit(FREQUENT_VISIT, pl.Int8))
    frame = claim_mod._general(plan, draws, frame)
    clinic = pl.lit(f"H{plan.admin_code}1") + pl.col("home_clinic").cast(pl.String).str.zfill(4)
    return frame.with_columns(
        date=pl.col("day"),
        age=claim_mod._age_on(pl.col("day")),
        out_of_region=pl.lit(False),
        referral=pl.lit(False),
        hospital_level=pl.lit(1, pl.Int8),
        institution=clinic,
    ).drop("day")
