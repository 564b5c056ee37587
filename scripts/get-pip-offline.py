"""Stand-in for get-pip.py when ansible-test bootstraps its virtual environments.

ansible-test downloads get-pip.py from ci-files.testing.ansible.com, which this
project's machines cannot reach. It runs the script as
``python get-pip.py pip==X --no-setuptools --no-wheel [pip options]``; we do the
same with Python's bundled ensurepip followed by a pip install from the package
index (which is reachable). scripts/sanity.sh puts this file where ansible-test
looks for its cached copy.
"""

import subprocess
import sys

GET_PIP_ONLY = {"--no-setuptools", "--no-wheel"}

# In a child process: ensurepip points PIP_CONFIG_FILE at /dev/null in its own
# environment, which would hide the machine's pip configuration (index, CA).
subprocess.check_call([sys.executable, "-m", "ensurepip", "--upgrade"])
args = [a for a in sys.argv[1:] if a not in GET_PIP_ONLY]
subprocess.check_call([sys.executable, "-m", "pip", "install", *args])
