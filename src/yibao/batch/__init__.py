"""City-scale batch settlement over columnar tables (Parquet / Arrow); equals engine/ to the fen."""
