"""The pure settlement engine: (person, claim, year-to-date state, policy) → settlement + trace.

Nothing here touches a database, a clock, the network or the filesystem.
"""
