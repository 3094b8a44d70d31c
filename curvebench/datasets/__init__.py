"""Real sources of runs: readers for the logs people have, the run CSV and RunSet Parquet formats."""

from curvebench.datasets.csv_run import read_csv, write_csv
from curvebench.datasets.parquet import read_parquet, write_parquet

__all__ = ["read_csv", "read_parquet", "write_csv", "write_parquet"]
