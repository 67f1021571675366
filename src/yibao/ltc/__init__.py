"""Long-term care insurance (长期护理保险): assessment levels, care types, daily rates and the fund's share."""
