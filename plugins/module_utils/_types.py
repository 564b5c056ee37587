# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The type names that error messages show."""

from __future__ import annotations


def type_name(value):
    """The plain type of value as the inventory wrote it: Ansible passes tagged subclasses (_AnsibleTaggedDict)."""
    for kind in (bool, int, float, str, dict, list):
        if isinstance(value, kind):
            return kind.__name__
    return type(value).__name__
