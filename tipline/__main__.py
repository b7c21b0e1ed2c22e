"""``python -m tipline`` is the ``tipline`` command."""

import sys

from tipline.cli import main

sys.exit(main())
