"""``python -m tools.bench``: the whole load benchmark (``make bench``; see run.py)."""

import sys

from tools.bench.run import main

sys.exit(main(sys.argv[1:]))
