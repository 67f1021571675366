"""Cross-region direct settlement (异地就医): filings, the insured region's ratios on the treating region's catalogue, clearing."""
