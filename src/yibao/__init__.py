"""yibao: 医保 settlement for Chinese cities — policy as cited data, a pure engine."""

__version__ = "0.1.0"
