"""curvebench.benchmark."""
