"""`make test` sets up the system parts it needs by itself, and `.ci/run` only calls it."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "tests" / "setup" / "system-deps.sh"


def target_line(makefile: str, target: str) -> str:
    match = re.search(rf"^{re.escape(target)}:(.*)$", makefile, re.MULTILINE)
    assert match, f"no target {target}"
    return match.group(1)


def test_make_test_depends_on_system_deps_and_ci_only_calls_it() -> None:
    makefile = (ROOT / "Makefile").read_text()
    assert "system-deps" in target_line(makefile, "test").split("##")[0]
    assert "tests/setup/system-deps.sh" in makefile
    commands = [
        line
        for line in (ROOT / ".ci" / "run").read_text().splitlines()
        if line.strip() and not line.startswith("#") and not line.startswith("#!")
    ]
    assert commands == ["set -euo pipefail", 'cd "$(dirname "$0")/.."', "make test"]


def test_make_run_installs_only_what_running_needs_and_uses_no_gnu_date() -> None:
    makefile = (ROOT / "Makefile").read_text()
    assert target_line(makefile, "run").split("##")[0].split() == ["install-run"]
    assert "date -d" not in makefile
    run_install = makefile.split("$(RUN_STAMP):", 1)[1].split("\n\n", 1)[0]
    assert "$(PIP_INSTALL) -e .\n" in run_install and "[dev" not in run_install


def test_system_deps_is_quiet_and_quick_when_everything_is_there() -> None:
    done = subprocess.run([str(SCRIPT)], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "" and done.stderr == ""


def test_a_missing_part_is_named_with_the_command_that_installs_it() -> None:
    env = {**os.environ, "SLOTOPTIM_CHROMIUM": "/nonexistent/chromium", "SYSTEM_DEPS_CHECK_ONLY": "1"}
    done = subprocess.run([str(SCRIPT)], capture_output=True, text=True, check=False, env=env)
    assert done.returncode == 1
    assert "apt-get update && apt-get install -y chromium" in done.stderr


def test_the_package_builds_without_setuptools_warnings(tmp_path: Path) -> None:
    """The install used to print about 70 setuptools warnings (packages missing from the
    configuration, data installed as packages). Built verbosely from a copy of the sources, the
    package prints none."""
    import shutil
    import sys

    source = tmp_path / "src"
    shutil.copytree(
        ROOT,
        source,
        ignore=shutil.ignore_patterns(
            ".git",
            ".venv",
            "build",
            "out",
            "bench-out",
            "node_modules",
            ".axe-cache",
            "*.egg-info",
            "__pycache__",
            "cdk.out",
            ".mypy_cache",
            ".ruff_cache",
            ".pytest_cache",
            ".hypothesis",
        ),
    )
    done = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-v", "--no-deps", "--no-build-isolation", "-w", str(tmp_path), "."],
        cwd=source,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    noise = [
        line
        for line in (done.stdout + done.stderr).splitlines()
        if "SetuptoolsDeprecationWarning" in line or "SetuptoolsWarning" in line or line.strip().startswith("!!")
    ]
    assert noise == [], "\n".join(noise[:20])
    assert list(tmp_path.glob("slotoptim-*.whl"))
