"""`yibao simulate`: the same population settled under the packaged policy and under a reform."""
