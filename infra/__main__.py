"""The stack program: the foundation, then the services, each a slice of its own.

Each slice reads its section of the validated config (environments/Pulumi.<stack>.yaml)
and what earlier slices made, from the one `Platform`; the order (infra/slices.py) is the
order of their dependencies. Adding a service: docs/architecture.md.
"""

import sys
from pathlib import Path

# `pulumi up` runs this file with infra/ on sys.path; the project root must be
# importable too when the project is not pip-installed in .venv.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from infra.platform import Platform
from infra.slices import FOUNDATION, SERVICES

platform = Platform.from_stack()
for part in (*FOUNDATION, *SERVICES):
    part.deploy(platform)
platform.export()
