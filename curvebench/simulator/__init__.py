"""curvebench.simulator."""
