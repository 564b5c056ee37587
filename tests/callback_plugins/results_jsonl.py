# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Test helper: append every task result as one JSON line to $AUTOPROV_RESULTS.

Used by tests/helpers.py so that tests assert on structured results, not on
screen output.
"""

from __future__ import annotations

import json
import os
import time

from ansible.plugins.callback import CallbackBase

DOCUMENTATION = r"""
name: results_jsonl
type: aggregate
short_description: Write task results as JSON lines (tests only)
description: Appends one JSON object per task result to the file named by E(AUTOPROV_RESULTS).
"""


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "results_jsonl"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._task_started = {}

    def v2_playbook_on_task_start(self, task, is_conditional):
        self._task_started[task._uuid] = time.monotonic()

    def _write(self, status, result):
        path = os.environ.get("AUTOPROV_RESULTS")
        if not path:
            return
        record = {
            "status": status,
            "host": result._host.get_name(),
            "task": result._task.get_name(),
            "action": result._task.action,
            "seconds": round(time.monotonic() - self._task_started.get(result._task._uuid, time.monotonic()), 4),
            "result": json.loads(self._dump_results(result._result, indent=None, keep_invocation=True)),
        }
        if "diff" in result._result:  # _dump_results drops it; tests assert on diffs too
            record["result"]["diff"] = result._result["diff"]
        with open(path, "a", encoding="utf-8") as handle:
            handle.write(json.dumps(record) + "\n")

    def v2_runner_on_ok(self, result):
        self._write("ok", result)

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._write("failed", result)

    def v2_runner_on_skipped(self, result):
        self._write("skipped", result)

    def v2_runner_on_unreachable(self, result):
        self._write("unreachable", result)
