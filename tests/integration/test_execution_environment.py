"""The example execution environment (docs/ee) as far as it goes without a container engine.

ansible-builder makes the build context from the definition; then the steps of the
image build that decide what goes in are run here as the build runs them: the
galaxy stage installs the collection from the context's requirements.yml, and the
builder stage's introspection turns the installed collection's metadata into the
Python and system requirements of the image. The image itself is built, and the
site playbook run inside it through ansible-runner, by `make ee-test`
(scripts/ee-test.sh), the last phase of `make test`.
"""

from __future__ import annotations

import shutil
import subprocess

import yaml
from helpers import ROOT, VENV_BIN, ansible_env

OUR_PYTHON_DEPS = {"netaddr", "requests", "mohawk", "defusedxml"}


def run(cmd, cwd, env=None):
    proc = subprocess.run([str(c) for c in cmd], cwd=str(cwd), env=env, capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, "%s failed:\n%s%s" % (cmd[0], proc.stdout[-3000:], proc.stderr[-3000:])
    return proc


def requirement_names(lines):
    names = set()
    for line in lines:
        spec = line.split("#", 1)[0].strip()
        if spec:
            names.add(spec.split(">", 1)[0].split("<", 1)[0].split("=", 1)[0].split("[", 1)[0].strip().lower())
    return names


def test_ee_context_installs_the_collection_with_its_dependencies(tmp_path):
    ee = tmp_path / "ee"
    shutil.copytree(ROOT / "docs" / "ee", ee)
    env = ansible_env(extra={"ANSIBLE_COLLECTIONS_PATH": str(tmp_path / "image-collections")})
    run([VENV_BIN / "ansible-galaxy", "collection", "build", "--output-path", tmp_path / "dist", ROOT], ROOT, env)
    (tarball,) = (tmp_path / "dist").glob("pbxops-autoprov-*.tar.gz")
    shutil.copy(tarball, ee / "collections" / "pbxops-autoprov.tar.gz")

    context = tmp_path / "context"
    definition = ee / "execution-environment.yml"
    run([VENV_BIN / "ansible-builder", "create", "-f", definition, "-c", context, "--output-filename", "Containerfile"], tmp_path)
    containerfile = (context / "Containerfile").read_text()
    assert 'ARG EE_BASE_IMAGE="quay.io/centos/centos:stream9"' in containerfile
    assert 'ARG PYCMD="/usr/bin/python3.11"' in containerfile
    assert 'ARG ANSIBLE_INSTALL_REFS="ansible-core>=2.19,<2.20 ansible-runner>=2.4"' in containerfile
    assert "ansible-galaxy collection install $ANSIBLE_GALAXY_CLI_COLLECTION_OPTS -r requirements.yml" in containerfile
    assert "introspect.py introspect --write-bindep=/tmp/src/bindep.txt --write-pip=/tmp/src/requirements.txt" in containerfile
    build = context / "_build"
    assert (build / "collections" / "pbxops-autoprov.tar.gz").read_bytes() == tarball.read_bytes()

    # The galaxy stage: WORKDIR is the context's _build, the collections land where the image keeps them.
    run([VENV_BIN / "ansible-galaxy", "collection", "install", "-r", "requirements.yml", "-p", tmp_path / "image-collections"], build, env)
    installed = tmp_path / "image-collections" / "ansible_collections" / "pbxops" / "autoprov"
    assert yaml.safe_load((installed / "meta" / "execution-environment.yml").read_text())["dependencies"] == {
        "python": "requirements.txt",
        "system": "bindep.txt",
    }

    # The builder stage: what introspection writes is what pip and dnf install into the image.
    pip_out, bindep_out = tmp_path / "requirements.txt", tmp_path / "bindep.txt"
    run(
        [VENV_BIN / "python", build / "scripts" / "introspect.py", "introspect", tmp_path / "image-collections",
         "--write-pip", pip_out, "--write-bindep", bindep_out],
        tmp_path,
    )  # fmt: skip
    pip_lines = pip_out.read_text().splitlines()
    assert requirement_names(pip_lines) == OUR_PYTHON_DEPS  # ansible-core comes from the definition, not twice
    ours = {line for line in (ROOT / "requirements.txt").read_text().splitlines() if requirement_names([line]) & OUR_PYTHON_DEPS}
    assert {line.split("#", 1)[0].strip() for line in pip_lines} == ours
    system = bindep_out.read_text()
    assert "openssh-clients [platform:rpm]" in system and "git [platform:dpkg platform:rpm]" in system
