"""curvebench.detectors."""
