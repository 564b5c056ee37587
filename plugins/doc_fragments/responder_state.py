# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Options of the modules that read what the responder keeps on the PBX (status database, manifest)."""

from __future__ import annotations


class ModuleDocFragment:
    DOCUMENTATION = r"""
options:
  responder_config:
    description: The responder's configuration file, which names the status database (C(db)) and the config root (C(root)).
    type: path
    default: /etc/autoprov-responder/responder.json
  db:
    description: The responder's status database, instead of the one O(responder_config) names.
    type: path
  config_root:
    description:
      - The config root holding the manifest (each device's vendor, files and extensions), instead of the one
        O(responder_config) names.
    type: path
"""
