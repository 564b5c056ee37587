# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Target side of device_configs' direct call: sync.serve without Ansible's module wrapper.

Python standard library only: this runs on the PBX host. The action plugin starts the target's
Python with LOADER as its whole program and writes one JSON request to its standard input: this
file's source, the sources of the modules sync.serve needs (fileops, sync), and the module's
parameters. Nothing is written to the target but what sync writes; the reply is one JSON object on
standard output, the module's result.

Why: a module call runs Ansible's wrapper, which imports Ansible's own module_utils from a zip,
compiled anew on every call - about 0.25 CPU-s on the PBX per call, two thirds of a ping, for code
this call does not use (bench/fleet). The parameters are the module's, checked by the action plugin
(device_configs' argument spec) before either way is taken.
"""

from __future__ import annotations

import json
import sys
import traceback
import types

# The program on the command line: read the request, run this file's source from it, call main.
LOADER = (
    "import json,sys;r=json.loads(sys.stdin.buffer.read());g={'__name__':'autoprov_direct'};"
    "exec(compile(r['boot'],r['boot_file'],'exec'),g);g['main'](r)"
)


def install(name, source, filename):
    """Module `name` made from its source, with the parent packages its own imports go through."""
    parts = name.split(".")
    for depth in range(1, len(parts)):
        package = ".".join(parts[:depth])
        if package not in sys.modules:
            module = types.ModuleType(package)
            module.__path__ = []
            sys.modules[package] = module
            if depth > 1:
                setattr(sys.modules[".".join(parts[: depth - 1])], parts[depth - 1], module)
    module = types.ModuleType(name)
    module.__file__ = filename
    sys.modules[name] = module
    exec(compile(source, filename, "exec"), module.__dict__)
    setattr(sys.modules[".".join(parts[:-1])], parts[-1], module)
    return module


def main(request):
    """Install the request's modules in order, call its entry's serve, write the result as JSON."""
    try:
        for name, filename, source in request["modules"]:
            entry = install(name, source, filename)
        result = entry.serve(request["params"], request["check_mode"])
    except Exception:  # the module would report it the same way: failed, with what happened
        result = {"failed": True, "msg": "device_configs on the target: %s" % traceback.format_exc(limit=4)}
    sys.stdout.write(json.dumps(result))
