"""What people are treated for and what it costs: the disease mix, item pools and prices.

Pure data. `docs/tables.md` gives each table's source or says it is assumed. Age bands
everywhere are BANDS (0–4, 5–14, 15–44, 45–59, 60–74, 75+); a weight tuple has one number per
band. Codes are those of the packaged sample catalogue (`sample_common.csv`); an item whose code
a region's catalogue lacks is dropped from the pools at plan time.
"""

from __future__ import annotations

from dataclasses import dataclass

BANDS = (0, 5, 15, 45, 60, 75)  # lower bounds of the utilisation age bands
Weights = tuple[float, float, float, float, float, float]

# ---------------------------------------------------------------- utilisation per person-year
# (before the person's frailty multiplier and the share of the year inside the policy window)
OUTPATIENT_VISITS: dict[str, Weights] = {
    "resident": (4.0, 2.2, 1.5, 2.2, 3.0, 3.4),
    "employee": (4.0, 2.2, 2.2, 3.0, 4.0, 4.4),
}
PHARMACY_PURCHASES: dict[str, Weights] = {
    "resident": (0.3, 0.3, 0.5, 0.8, 1.0, 1.0),
    "employee": (0.5, 0.5, 3.0, 4.0, 6.0, 6.0),
}
ADMISSIONS: Weights = (0.16, 0.065, 0.095, 0.17, 0.37, 0.60)
CHRONIC_PREVALENCE: Weights = (0.001, 0.002, 0.015, 0.06, 0.16, 0.24)
CHRONIC_ADMISSION_FACTOR = 1.8  # a registered chronic patient is admitted this much more often
CHRONIC_OWN_ADMISSION = 0.4  # share of a chronic patient's admissions that are for the condition
FRAILTY_SIGMA = 0.6  # log-normal person frailty (mean 1): over-dispersion of all counts

# ---------------------------------------------------------------- hospital levels, transfers
OUTPATIENT_LEVELS = {"resident": (0.60, 0.25, 0.15), "employee": (0.35, 0.30, 0.35)}
INPATIENT_LEVELS = {"resident": (0.25, 0.40, 0.35), "employee": (0.08, 0.32, 0.60)}
OUT_OF_REGION_LEVELS = (0.0, 0.10, 0.90)
COMMUNITY_CONTRACT_LEVEL1 = 0.90  # contracted residents' general visits at their level-1 clinic
HOME_CLINIC_SHARE = 0.80  # level-1 visits and pharmacy purchases at the person's usual place
OUT_OF_REGION = {"11": 0.01, "14": 0.005, "41": 0.005, "21": {"resident": 0.05, "employee": 0.03}}
REFERRED_SHARE = {"11": 0.10, "14": 0.50, "41": 0.0, "21": 0.70}

# ---------------------------------------------------------------- claim totals (yuan)
# log-normal body (median, sigma) with, at probability `tail`, a Pareto(scale, alpha) draw
OUTPATIENT_COST = {1: (60.0, 0.7), 2: (150.0, 0.7), 3: (230.0, 0.7)}
OUTPATIENT_TAIL = (0.01, 1500.0, 2.2)
PHARMACY_COST = (70.0, 0.8)
PHARMACY_TAIL = (0.005, 800.0, 2.5)
INPATIENT_COST = {1: (1300.0, 0.75), 2: (3600.0, 0.75), 3: (7000.0, 0.75)}
INPATIENT_TAIL = {1: (0.005, 8000.0, 1.7), 2: (0.02, 25000.0, 1.7), 3: (0.04, 50000.0, 1.7)}
INPATIENT_COST_CAP = 2_000_000.0
OUT_OF_REGION_COST_FACTOR = 1.3
CHRONIC_COST_SIGMA = 0.5
LENGTH_OF_STAY = {1: 6.0, 2: 7.0, 3: 8.0}  # median days at the level's median cost
LOS_COST_ELASTICITY = 0.4  # days grow as (cost / median cost) ** 0.4
MAX_LOS = 180
READMISSION_GAP = 16  # legitimate stays of one person are at least this many days apart

# ---------------------------------------------------------------- prices (fen) and price rules
PRICES: dict[str, int] = {
    "XC08CAA001": 1250,
    "XC09AAA002": 480,
    "XA10BAA001": 1500,
    "XA10AB0001": 7200,
    "XC10AAA005": 2800,
    "XJ01CAA040": 950,
    "XJ01DCA011": 2600,
    "XN02BEA001": 600,
    "XR05CBA001": 1800,
    "XB01ACA056": 2400,
    "XL01XC0002": 148000,
    "XL01BA0001": 2100,
    "XG03AC0001": 1600,
    "XN05AH0004": 4500,
    "ZA01AAA0001": 2600,
    "ZB02BBA0002": 3200,
    "S001": 1500,
    "S002": 6000,
    "S003": 4000,
    "S004": 2500,
    "S005": 41000,
    "S006": 21000,
    "S007": 62000,
    "S008": 800,
    "S009": 95000,
    "S010": 115000,
    "S011": 2200,
    "M001": 79000,
    "M002": 145000,
    "M003": 550,
    "C001": 480000,
    "C002": 8500,
    "G001": 4500,
    "G002": 18800,
}
CONSULT_FEE = {1: 1000, 2: 1500, 3: 2500}  # S001 普通门诊诊查费 by level
BED = {1: ("S003", 3000), 2: ("S003", 4000), 3: ("S002", 6000)}  # code, daily price by level
NURSING = "S004"
NURSING_SHARE = 0.6  # stays charged 一级护理 every day
PRICE_JITTER = 0.15  # drugs and materials: price × exp(N(0, 0.15)); services are fixed prices
PREMIUM_LENS_SHARE = 0.3  # M002 lenses priced above the payment limit (legitimate overlmt_selfpay)
PREMIUM_LENS_PRICE = (180000, 450000)
FALLBACK = {"drug": "XN02BEA001", "material": "M003"}  # replaces an item outside its restriction
FALLBACK_SERVICE = "S011"

# relative units of an item on one claim: a stay's or visit's variable lines share the money
# left after the fixed lines in proportion to units × price, so an expensive claim has more of
# everything and a typical one about 1 CT scan per 10 boxes of medicine; default 1
UNITS: dict[str, float] = {
    "S006": 0.15,
    "S007": 0.1,
    "S010": 0.8,
    "XL01XC0002": 0.3,
    "XA10AB0001": 0.5,
    "S008": 2.0,
    "M003": 2.0,
    "C002": 0.5,
    "C001": 0.05,
    "XC08CAA001": 2.0,
    "XC09AAA002": 2.0,
    "XA10BAA001": 2.0,
    "XC10AAA005": 2.0,
    "XJ01CAA040": 2.0,
    "XJ01DCA011": 2.0,
    "XN02BEA001": 2.0,
    "XR05CBA001": 2.0,
    "XB01ACA056": 2.0,
    "XN05AH0004": 2.0,
}

# variable lines per claim: base + Poisson(mean), at most cap
VARIABLE_LINES = {"11": (1, 1.0, 6), "14": (1, 1.0, 5), "41": (1, 0.6, 5), "21": (3, 1.0, 20)}
VARIABLE_LINES_PER_DAY = 1 / 3  # inpatient: Poisson mean grows with the stay

# ---------------------------------------------------------------- item pools
BASE_INPATIENT = {"S011": 3, "S008": 3, "M003": 2, "S006": 1, "XN02BEA001": 0.5, "C002": 0.2}
POOLS: dict[str, dict[str, float]] = {
    # general outpatient / inpatient by diagnosis group
    "resp_child": {"ZB02BBA0002": 4, "XJ01CAA040": 3, "XR05CBA001": 3, "XN02BEA001": 3, "S011": 2},
    "resp": {"XJ01CAA040": 4, "XJ01DCA011": 2, "XR05CBA001": 3, "XN02BEA001": 3, "S011": 2},
    "gi": {"S011": 3, "S008": 1, "M003": 1, "XJ01CAA040": 1, "ZA01AAA0001": 1},
    "musculo": {"XN02BEA001": 4, "S006": 1, "S007": 0.5, "C002": 1, "ZA01AAA0001": 1},
    "hypertension": {"XC08CAA001": 5, "XC09AAA002": 3, "XC10AAA005": 2, "S011": 1},
    "coronary": {"XB01ACA056": 4, "XC10AAA005": 4, "XC08CAA001": 2, "S011": 1},
    "stroke": {"XB01ACA056": 4, "XC10AAA005": 3, "S007": 1, "S006": 2},
    "stroke_sequelae": {"XC10AAA005": 4, "XC08CAA001": 2, "S011": 1, "ZA01AAA0001": 1},
    "diabetes": {"XA10BAA001": 5, "XA10AB0001": 3, "S011": 2, "XC10AAA005": 1},
    "diabetes_t1": {"XA10AB0001": 5, "S011": 2},
    "copd": {"XR05CBA001": 4, "XJ01DCA011": 2, "S011": 1, "S006": 0.5},
    "heart_failure": {"XC09AAA002": 4, "XC10AAA005": 1, "S011": 2},
    "general": {"XN02BEA001": 2, "XJ01CAA040": 2, "S011": 2, "C001": 0.02},
    "rheumatic": {"XL01BA0001": 4, "XN02BEA001": 3, "S011": 2},
    "parkinson": {"ZA01AAA0001": 2, "S011": 1, "XN02BEA001": 1},
    "psychiatric": {"XN05AH0004": 6, "S011": 1},
    "liver": {"S011": 3, "ZA01AAA0001": 2, "S006": 1},
    "dialysis": {"S005": 8, "S011": 1, "M003": 1},
    "breast_cancer": {"XL01XC0002": 5, "XL01BA0001": 2, "S011": 2, "S010": 1},
    "cancer": {"XL01BA0001": 3, "S010": 3, "S011": 2, "S006": 1},
    "leukaemia": {"XL01BA0001": 4, "S011": 3, "S008": 2, "M003": 1},
    "transplant": {"XL01BA0001": 3, "S011": 3},
    "blood": {"S011": 3, "S008": 2, "M003": 1},
    "tuberculosis": {"S011": 2, "S006": 2},
    "neuro": {"S011": 2, "XN02BEA001": 1},
    "surgical": {"XJ01DCA011": 3, "S008": 1},
    "obstetric": {"XJ01CAA040": 1, "S011": 2},
    "threatened_abortion": {"S011": 2},
    "fracture": {"S006": 3, "XN02BEA001": 2},
    "eye": {"S011": 1},
    "cardiac_child": {"S006": 2, "S011": 3},
    # pharmacy purchases (no diagnosis: no indication-restricted drug)
    "pharmacy": {
        "XN02BEA001": 4,
        "XR05CBA001": 3,
        "XJ01CAA040": 2,
        "XC08CAA001": 3,
        "XA10BAA001": 2,
        "XC10AAA005": 2,
        "ZA01AAA0001": 3,
        "XC09AAA002": 1,
    },
    "pharmacy_child": {"ZB02BBA0002": 4, "XN02BEA001": 3, "XR05CBA001": 3, "XJ01CAA040": 2},
}

# items a stay always has for its diagnosis: code → (quantity low, high, lowest level)
MUST: dict[str, dict[str, tuple[int, int, int]]] = {
    "K35.8": {"S009": (1, 1, 1)},
    "I21.9": {"M001": (1, 2, 2)},
    "H25.9": {"M002": (1, 1, 1)},
    "O20.0": {"XG03AC0001": (5, 14, 1)},
}


@dataclass(frozen=True, slots=True)
class Diagnosis:
    """A diagnosis of the general-outpatient or inpatient mix."""

    icd: str
    weights: Weights
    pool: str
    sex: str | None = None
    child_pool: str | None = None  # pool for persons aged 14 or less
    los: float = 1.0  # length-of-stay factor (inpatient)
    cost: float = 1.0  # cost factor (inpatient)
    extra: tuple[str, ...] = ()  # diagnoses listed before it (e.g. Z51.1 for chemotherapy)


OUTPATIENT_DIAGNOSES: tuple[Diagnosis, ...] = (
    Diagnosis("J06.9", (40, 30, 25, 15, 10, 10), "resp", child_pool="resp_child"),
    Diagnosis("J20.9", (20, 15, 8, 8, 8, 9), "resp", child_pool="resp_child"),
    Diagnosis("R50.9", (12, 8, 2, 1, 1, 1), "resp", child_pool="resp_child"),
    Diagnosis("A09", (10, 8, 4, 3, 3, 3), "gi"),
    Diagnosis("K29.7", (0, 2, 12, 10, 8, 7), "gi"),
    Diagnosis("M54.5", (0, 1, 10, 12, 8, 7), "musculo"),
    Diagnosis("M17.9", (0, 0, 1, 5, 8, 9), "musculo"),
    Diagnosis("I10", (0, 0, 6, 14, 22, 24), "hypertension"),
    Diagnosis("E11.9", (0, 0, 3, 8, 12, 12), "diabetes"),
    Diagnosis("I25.1", (0, 0, 0.5, 3, 6, 8), "coronary"),
    Diagnosis("J44.9", (0, 0, 0.3, 2, 5, 7), "copd"),
    Diagnosis("L30.9", (8, 6, 6, 4, 3, 3), "general"),
    Diagnosis("H10.9", (5, 5, 3, 2, 2, 2), "general"),
    Diagnosis("N39.0", (1, 1, 5, 4, 3, 3), "general"),
    Diagnosis("R51", (0, 2, 5, 3, 2, 2), "neuro"),
)

INPATIENT_DIAGNOSES: tuple[Diagnosis, ...] = (
    Diagnosis("J18.9", (35, 20, 4, 4, 8, 14), "resp", child_pool="resp_child", los=1.0, cost=0.9),
    Diagnosis("J20.9", (20, 15, 1, 1, 1, 1), "resp", child_pool="resp_child", los=0.8, cost=0.6),
    Diagnosis("A09", (15, 10, 3, 2, 2, 2), "gi", los=0.6, cost=0.5),
    Diagnosis("K35.8", (0.5, 8, 6, 3, 1, 0.5), "surgical", los=0.8, cost=1.1),
    Diagnosis("K80.2", (0, 0.2, 3, 4, 3, 2), "surgical", los=1.0, cost=1.3),
    Diagnosis("O80", (0, 0, 22, 0.3, 0, 0), "obstetric", sex="F", los=0.5, cost=0.8),
    Diagnosis("O20.0", (0, 0, 4, 0, 0, 0), "threatened_abortion", sex="F", los=1.0, cost=0.5),
    Diagnosis("S82.2", (1, 5, 5, 3, 1, 0.5), "fracture", los=1.3, cost=1.6),
    Diagnosis("S72.0", (0, 0, 0.5, 2, 4, 8), "fracture", los=1.8, cost=2.2),
    Diagnosis("I63.9", (0, 0, 1, 7, 14, 16), "stroke", los=1.4, cost=1.3),
    Diagnosis("I21.9", (0, 0, 0.5, 3, 4, 4), "coronary", los=1.0, cost=3.0),
    Diagnosis("I25.1", (0, 0, 0.5, 5, 8, 9), "coronary", los=0.9, cost=1.5),
    Diagnosis("I10", (0, 0, 1, 4, 5, 5), "hypertension", los=0.9, cost=0.7),
    Diagnosis("E11.9", (0, 0.2, 1.5, 5, 5, 4), "diabetes", los=1.1, cost=0.9),
    Diagnosis("J44.1", (0, 0, 0.2, 2, 6, 9), "copd", los=1.2, cost=1.1),
    Diagnosis("I50.9", (0, 0, 0.2, 1, 3, 7), "heart_failure", los=1.2, cost=1.1),
    Diagnosis("C34.9", (0, 0, 0.5, 4, 6, 4), "cancer", los=1.0, cost=1.6, extra=("Z51.1",)),
    Diagnosis("C50.9", (0, 0, 1.5, 4, 3, 1), "breast_cancer", sex="F", cost=1.8, extra=("Z51.1",)),
    Diagnosis("C16.9", (0, 0, 0.3, 2, 3, 2), "cancer", los=1.2, cost=1.7),
    Diagnosis("H25.9", (0, 0, 0, 1, 5, 5), "eye", los=0.3, cost=0.9),
    Diagnosis("N18.5", (0, 0.2, 1, 2, 2, 2), "dialysis", los=1.3, cost=1.4),
    Diagnosis("F20.0", (0, 0.1, 2, 1.5, 0.5, 0.2), "psychiatric", los=5.0, cost=2.5),
    Diagnosis("M17.9", (0, 0, 0.3, 2, 4, 3), "musculo", los=1.0, cost=1.0),
    Diagnosis("C91.0", (0.5, 0.5, 0, 0, 0, 0), "leukaemia", los=2.0, cost=3.0),
    Diagnosis("Q21.0", (1.5, 0.3, 0, 0, 0, 0), "cardiac_child", los=1.8, cost=4.0),
)


@dataclass(frozen=True, slots=True)
class Chronic:
    """A chronic condition a person may be registered for (门诊慢特病 when the region lists it)."""

    key: str
    icd: str
    adult: float  # relative weight among adults (18+)
    child: float  # relative weight among children
    pool: str
    cost: float  # median claim total, yuan
    visits: float  # chronic-outpatient claims per year
    levels: tuple[float, float, float] = (0.45, 0.35, 0.20)
    sex: str | None = None
    min_age: int = 0
    extra: tuple[str, ...] = ()


CHRONIC: tuple[Chronic, ...] = (
    Chronic("hypertension", "I10", 34, 0, "hypertension", 180, 8),
    Chronic("diabetes", "E11.9", 24, 0, "diabetes", 280, 8),
    Chronic("diabetes_t1", "E10.9", 0.5, 20, "diabetes_t1", 300, 8),
    Chronic("coronary_heart_disease", "I25.1", 10, 0, "coronary", 260, 8),
    Chronic("stroke_sequelae", "I69.3", 6, 0, "stroke_sequelae", 250, 8),
    Chronic("copd", "J44.9", 5, 0, "copd", 300, 7),
    Chronic("heart_failure", "I50.9", 3, 0, "heart_failure", 300, 8),
    Chronic("rheumatoid_arthritis", "M06.9", 2, 0, "rheumatic", 350, 6),
    Chronic("lupus", "M32.9", 0.6, 1, "rheumatic", 400, 6),
    Chronic("parkinson", "G20", 1.5, 0, "parkinson", 350, 6, min_age=50),
    Chronic("schizophrenia", "F20.0", 2.5, 0, "psychiatric", 400, 8),
    Chronic("chronic_hepatitis", "B18.1", 2, 2, "liver", 450, 6),
    Chronic("cirrhosis", "K74.6", 1, 0, "liver", 500, 6),
    Chronic("dialysis", "N18.5", 1.2, 1, "dialysis", 4800, 12, levels=(0, 0.4, 0.6)),
    Chronic(
        "breast_cancer",
        "C50.9",
        1.5,
        0,
        "breast_cancer",
        6000,
        10,
        (0, 0.3, 0.7),
        "F",
        extra=("Z51.1",),
    ),
    Chronic("lung_cancer", "C34.9", 1.5, 0, "cancer", 5000, 10, (0, 0.3, 0.7), extra=("Z51.1",)),
    Chronic("transplant", "Z94.0", 0.3, 0.5, "transplant", 3000, 10, (0, 0.3, 0.7)),
    Chronic("aplastic_anaemia", "D61.9", 0.2, 2, "blood", 1500, 8, (0, 0.4, 0.6)),
    Chronic("haemophilia", "D66", 0.1, 6, "blood", 3000, 8, (0, 0.4, 0.6), "M"),
    Chronic("tuberculosis", "A15.0", 1, 2, "tuberculosis", 300, 6, (0.2, 0.5, 0.3)),
    Chronic("tardive_dyskinesia", "G24.0", 0.3, 0, "neuro", 300, 6),
    Chronic("cerebral_palsy", "G80.9", 0, 30, "neuro", 800, 10, (0.2, 0.5, 0.3)),
    Chronic("child_leukaemia", "C91.0", 0, 8, "leukaemia", 5000, 10, (0, 0.2, 0.8)),
    Chronic("congenital_heart", "Q21.0", 0, 10, "cardiac_child", 600, 4, (0, 0.3, 0.7)),
)

# ---------------------------------------------------------------- fraud patterns (labels)
INPATIENT_PATTERNS = (
    "split_hospitalization",
    "bed_hanging",
    "charge_outside_stay",
    "over_price_limit",
    "duplicate_charge",
)
OUTPATIENT_PATTERNS = ("duplicate_charge", "sex_age_mismatch")
PHARMACY_PATTERNS = ("pharmacy_non_medical", "pharmacy_non_medical", "duplicate_charge")
SPLIT_GAP = (1, 14)  # days between discharge and the planted re-admission
OUTSIDE_STAY_DAYS = (1, 10)  # how far outside the stay a planted charge is dated
OVER_LIMIT_FACTOR = (1.5, 2.5)  # planted price = limit × factor
DAILY_GOODS = ("G001", "G002")
WRONG_SEX_ITEM = ("XG03AC0001", "O20.0")  # progesterone with an obstetric diagnosis, for a man
WRONG_AGE_ITEM = "ZB02BBA0002"  # a children's medicine (≤ 14) for an older person

# patterns planted on their own draw streams after the ones above, so those stay on exactly the
# same claims; each is as frequent as one pattern of its tuple above (rate / len(tuple))
EXTRA_OUTPATIENT_PATTERNS = {
    "11": ("drug_substitution",),
    "14": ("drug_substitution", "disease_substitution"),
}
EXTRA_INPATIENT_PATTERNS = ("low_standard_admission",)
# 串换药品: a drug of a class the visit's diagnosis does not call for is billed (metformin;
# methotrexate when the visit is for diabetes) — neither has a catalogue indication restriction,
# so settlement alone does not notice
SUBSTITUTED_DRUGS = ("XA10BAA001", "XL01BA0001")
# 串换病种: the chronic claim is settled under the disease of the first of these conditions
# that is not the person's own (dialysis, else cancer: the best-paid special diseases)
SUBSTITUTED_DISEASES = ("dialysis", "lung_cancer")
# 低标准入院: a 1–3 day stay for a cold or gastritis costing 200–700 yuan before fixed lines
LOW_STANDARD_DIAGNOSES = (("J06.9", "resp"), ("K29.7", "gi"))
LOW_STANDARD_DAYS = (1, 3)
LOW_STANDARD_COST = (200.0, 700.0)
# identity: of the persons, rate × this share each are planted as deceased / un-enrolled, the
# date 1–60 days before their last line (persons with another planted pattern are skipped)
IDENTITY_SHARE = 0.1
IDENTITY_DAYS = (1, 60)
# fraudulent institutions: this share (at least one) of the local hospitals of each level that
# has at least FRAUD_INSTITUTION_MIN of them; their unpatterned stays cost INFLATED_COST times
# as much, INSTITUTION_SPLIT_SHARE of their stays get a planted re-admission, and their
# variable lines are billed as 乙/丙 items for the same amount (UPCODE: A item → B/C item)
FRAUD_INSTITUTION_SHARE = 0.05
FRAUD_INSTITUTION_MIN = 10
INFLATED_COST = 1.5
INSTITUTION_SPLIT_SHARE = 0.10
UPCODE = {"XN02BEA001": "ZA01AAA0001", "XJ01CAA040": "XJ01DCA011", "S008": "C002"}
