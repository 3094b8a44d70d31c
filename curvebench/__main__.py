"""``python -m curvebench`` is the ``curvebench`` command."""

import sys

from curvebench.cli import main

sys.exit(main())
