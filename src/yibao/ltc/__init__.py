"""Long-term care insurance (长期护理保险): assessments, care and payment."""
