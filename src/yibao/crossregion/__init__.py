"""Cross-region direct settlement (异地就医): filings and clearing."""
