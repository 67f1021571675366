#!/bin/sh
# A Liaoyang year on a fresh SQLite file: register 辽阳市中心医院, sign a DRG agreement, set
# its budget, assess it, run the year end (twice: the second run writes nothing) and print
# the statement. Settlements come from the online service (POST /api/transactions); this
# script has none, so the statement shows only the budget's savings reward and VBP lines.
set -e
DB="sqlite:///${1:-payment-example.db}"
yibao institution add H21100200001 --name 辽阳市中心医院 --level 3 --kind hospital \
    --region liaoyang --database-url "$DB" > /dev/null
yibao payment agreement add H21100200001 --kind hospital --ownership public \
    --from 2023-01-01 --to 2023-12-31 --method drg --database-url "$DB"
yibao payment budget set H21100200001 --year 2023 --budget 500000.00 \
    --vbp-budget 50000.00 --vbp-paid 30000.00 --database-url "$DB"
yibao payment assess H21100200001 --year 2023 --score 90 --database-url "$DB"
yibao payment year-end liaoyang --year 2023 --database-url "$DB"
yibao payment year-end liaoyang --year 2023 --database-url "$DB"
yibao payment statement H21100200001 --year 2023 --format text --database-url "$DB"
