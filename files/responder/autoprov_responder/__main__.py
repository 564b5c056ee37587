# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Entry point: python3 -m autoprov_responder."""

import sys

from .cli import main

sys.exit(main())
