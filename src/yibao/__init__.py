"""yibao: 医保 settlement for Chinese cities — policy as cited data, a pure engine."""

import os

# polars' allocator (jemalloc) hands freed pages back to the kernel after 0.5–1 s, and a batch
# run frees and allocates hundreds of MB per partition: the pages came straight back as page
# faults, ~20% of its CPU in kernel time. Kept 20 s, 10M lines took ~11% less CPU with the same
# peak memory (benchmarks/batch.py). polars adds this to its own setting when it is imported
# after yibao; a setting of the user's own is kept.
os.environ.setdefault("_RJEM_MALLOC_CONF", "dirty_decay_ms:20000,muzzy_decay_ms:20000")

__version__ = "0.1.0"
