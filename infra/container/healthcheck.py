#!/usr/bin/env python3
"""The image's HEALTHCHECK: exit 0 when the API answers /readyz with 200 (database and Redis reachable)."""

import os
import sys
import urllib.error
import urllib.request

URL = os.environ.get("SLOTOPTIM_HEALTHCHECK_URL", "http://127.0.0.1:8000/readyz")

try:
    with urllib.request.urlopen(URL, timeout=4) as response:
        sys.exit(0 if response.status == 200 else 1)
except (urllib.error.URLError, OSError) as error:
    print(f"not ready: {error}", file=sys.stderr)
    sys.exit(1)
