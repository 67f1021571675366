"""Turning settlements into what people and programs read: JSON output and printed bills."""
