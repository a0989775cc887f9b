"""The financial-assistant workflow on agno, in several concurrency shapes (registry: workflow/variants.py).

Importing the package loads nothing heavy: the variants' registry is readable without agno.
"""

from __future__ import annotations

import os

# agno reads this when an agent runs and it overrides Agent(telemetry=...): force it off.
os.environ["AGNO_TELEMETRY"] = "false"
