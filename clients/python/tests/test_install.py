"""`pip install ./clients/python` into a fresh virtual environment, offline (Debian's pip,
setuptools and wheel; the package has no dependency), then the package imported from there."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))


class InstallTest(unittest.TestCase):
    def test_pip_installs_the_package(self):
        with tempfile.TemporaryDirectory() as tmp:
            venv = os.path.join(tmp, "venv")
            # Debian's wheel (python3-wheel) builds it: the venv sees the system's packages.
            subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", venv],
                           check=True)
            pip = os.path.join(venv, "bin", "pip")
            # From a copy: setuptools builds inside the directory it is given.
            source = os.path.join(tmp, "src")
            shutil.copytree(HERE, source, ignore=shutil.ignore_patterns(
                "tests", "build", "*.egg-info", "__pycache__"))
            done = subprocess.run([pip, "install", "--no-index", "--no-build-isolation", source],
                                  capture_output=True, text=True)
            self.assertEqual(done.returncode, 0, done.stdout + done.stderr)
            python = os.path.join(venv, "bin", "python")
            env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
            where = subprocess.run(
                [python, "-c", "import ctxmgr_client as c; print(c.__file__, c.__version__)"],
                capture_output=True, text=True, cwd=tmp, env=env, check=True).stdout
            self.assertTrue(where.startswith(venv), where)
            self.assertIn("1.0.0", where)


if __name__ == "__main__":
    unittest.main()
