"""The claim file printed in contract.md, verbatim: several tests settle it."""

CONTRACT_EXAMPLE = {
    "region": "erenhot",
    "person": {
        "id": "P001",
        "scheme": "employee",
        "employment": "retired",
        "categories": [],
        "birth_date": "1955-03-02",
        "sex": "M",
    },
    "claims": [
        {
            "id": "C1",
            "date": "2023-03-01",
            "med_type": "11",
            "hospital_level": 3,
            "out_of_region": False,
            "referral": False,
            "admit_date": None,
            "discharge_date": None,
            "diagnoses": ["I10"],
            "disease": None,
            "items": [
                {
                    "code": "X01",
                    "name": "硝苯地平缓释片",
                    "category": "A",
                    "price": "12.50",
                    "quantity": 10,
                },
                {
                    "code": "X02",
                    "name": "某乙类药",
                    "category": "B",
                    "price": "100.00",
                    "quantity": 1,
                    "selfpay_ratio": "0.10",
                },
                {
                    "code": "X03",
                    "name": "某丙类项目",
                    "category": "C",
                    "price": "80",
                    "quantity": 1,
                },
                {
                    "code": "X04",
                    "name": "限价材料",
                    "category": "A",
                    "price": "500.00",
                    "quantity": 1,
                    "price_limit": "300.00",
                },
            ],
        }
    ],
}
