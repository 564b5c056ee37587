# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Attributes every module of the collection shares; a module states only where it differs."""

from __future__ import annotations


class ModuleDocFragment:
    # Every module: POSIX targets (the responder, the DHCP servers and the config root are on Linux hosts).
    DOCUMENTATION = r"""
attributes:
  platform:
    description: Target OS/families that can be operated against.
    support: N/A
    platforms: posix
"""

    # Modules that only read or ask, never change a host: check mode runs them as usual, no diff, no change.
    READ_ONLY = r"""
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: none
  idempotent:
    description: Whether a second run with the same input reports no change.
    support: full
    details: Read-only; never reports a change.
"""
