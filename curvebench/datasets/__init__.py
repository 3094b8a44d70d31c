"""Real sources of runs: readers for the logs people have, the run CSV and RunSet Parquet formats."""

from curvebench.datasets.corpora import load
from curvebench.datasets.csv_run import read_csv, write_csv
from curvebench.datasets.parquet import read_parquet, write_parquet
from curvebench.datasets.readers import detect_format, read_run
from curvebench.datasets.suite import read_suite, write_suite

__all__ = [
    "detect_format",
    "load",
    "read_csv",
    "read_parquet",
    "read_run",
    "read_suite",
    "write_csv",
    "write_parquet",
    "write_suite",
]
