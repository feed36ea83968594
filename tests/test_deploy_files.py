"""docker-compose.yml, Dockerfile and .dockerignore: the structure the deployment relies on.

`docker compose config` needs the compose plugin (absent here) so the YAML is parsed and
checked; the containers' health check command is run for real against the ops endpoint.
"""

from __future__ import annotations

import asyncio
import json
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import Engine, create_engine

from hotpapers.config import Settings
from hotpapers.ops.http import ops_app, serve_ops
from hotpapers.ops.status import record_job

ROOT = Path(__file__).parents[1]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
SERVICES: dict[str, Any] = COMPOSE["services"]
DOCKERFILE = (ROOT / "Dockerfile").read_text(encoding="utf-8")
SECRET_SETTINGS = ("TOKEN", "PASSWORD", "API_KEY", "API_SECRET")


def test_postgres_has_a_health_check_and_a_volume() -> None:
    db = SERVICES["db"]
    assert db["image"] == "postgres:16"
    assert "pg_isready" in " ".join(db["healthcheck"]["test"])
    assert any(volume.endswith(":/var/lib/postgresql/data") for volume in db["volumes"])
    assert db["volumes"][0].split(":")[0] in COMPOSE["volumes"]


def test_migrate_runs_once_after_postgres_is_healthy() -> None:
    migrate = SERVICES["migrate"]
    assert migrate["command"] == ["db", "upgrade"]
    assert migrate["depends_on"] == {"db": {"condition": "service_healthy"}}
    assert migrate["restart"] == "no"


def test_the_service_starts_after_a_successful_migration() -> None:
    service = SERVICES["hotpapers"]
    assert service["command"] == ["run"]
    assert service["depends_on"]["migrate"] == {"condition": "service_completed_successfully"}
    assert service["env_file"] == ".env"
    assert "./config.toml:/etc/hotpapers/config.toml:ro" in service["volumes"]
    published = {port.rsplit(":", 1)[-1] for port in service["ports"]}
    assert published == {"8080", "9108"}
    assert "127.0.0.1:9108:9108" in service["ports"]  # metrics stay on the host
    assert "/healthz" in " ".join(service["healthcheck"]["test"])
    assert "curl" not in " ".join(service["healthcheck"]["test"])


def test_the_database_url_points_at_the_db_service() -> None:
    for name in ("migrate", "hotpapers"):
        url = SERVICES[name]["environment"]["HOTPAPERS_DATABASE__URL"]
        assert url.startswith("postgresql://hotpapers:${POSTGRES_PASSWORD")
        assert url.endswith("@db:5432/hotpapers")


def test_the_compose_environment_names_real_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    environment = SERVICES["hotpapers"]["environment"]
    for name, value in environment.items():
        if name.startswith("HOTPAPERS_") and name != "HOTPAPERS_CONFIG" and "${" not in value:
            monkeypatch.setenv(name, value)
    settings = Settings()
    assert settings.site.host == settings.ops.host == "0.0.0.0"


def test_no_secret_is_written_into_the_deploy_files() -> None:
    text = (ROOT / "docker-compose.yml").read_text(encoding="utf-8") + DOCKERFILE
    assignments = re.findall(r"^\s*(HOTPAPERS_\w+|POSTGRES_PASSWORD)\s*[:=]\s*(\S+)", text, re.M)
    for name, value in assignments:
        if any(part in name for part in SECRET_SETTINGS):
            assert value.startswith(("${", '"${')), name  # interpolated from .env only
    ignored = (ROOT / ".dockerignore").read_text(encoding="utf-8").split()
    assert {".env", "config.toml", ".venv", ".git"} <= set(ignored)


def test_the_image_runs_the_cli_unprivileged() -> None:
    assert DOCKERFILE.startswith("#") and "\nFROM python:3.11" in DOCKERFILE
    assert 'ENTRYPOINT ["hotpapers"]' in DOCKERFILE and 'CMD ["run"]' in DOCKERFILE
    assert re.search(r"^USER (?!root)\w+", DOCKERFILE, re.M)


def _line_of(pattern: str) -> int:
    """The index of the first Dockerfile instruction matching `pattern` (it must exist)."""
    lines = DOCKERFILE.splitlines()
    found = [n for n, line in enumerate(lines) if re.search(pattern, line)]
    assert found, pattern
    return found[0]


def test_dependencies_are_installed_from_the_lock_before_the_source_is_copied() -> None:
    """A code change must not reinstall every dependency: the locked layer comes first."""
    lock_copy = _line_of(r"^COPY requirements\.lock ")
    lock_install = _line_of(r"pip install .*--require-hashes.* -r requirements\.lock")
    source = min(_line_of(r"^COPY hotpapers "), _line_of(r"^COPY bot "))
    assert lock_copy < lock_install < source
    assert _line_of(r"^COPY pyproject\.toml") > lock_install  # a version bump keeps the layer
    # The project itself adds no unlocked package.
    assert source < _line_of(r"pip install --no-deps \.")
    assert "requirements.lock" not in (ROOT / ".dockerignore").read_text(encoding="utf-8")


def _requirement_name(spec: str) -> str:
    return re.sub(r"[-_.]+", "-", re.split(r"[\[<>=!~;\s]", spec, maxsplit=1)[0].lower())


def test_the_lock_pins_every_runtime_dependency_with_hashes() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    wanted = {_requirement_name(spec) for spec in project["dependencies"]}
    wanted |= {_requirement_name(spec) for spec in project["optional-dependencies"]["postgres"]}
    lock = (ROOT / "requirements.lock").read_text(encoding="utf-8")
    pinned = dict(re.findall(r"^([A-Za-z0-9._-]+)(?:\[[^\]]*\])?==(\S+)", lock, re.M))
    pinned = {_requirement_name(name): version for name, version in pinned.items()}
    assert wanted <= set(pinned), f"refresh requirements.lock: {sorted(wanted - set(pinned))}"
    blocks = re.split(r"\n(?=[A-Za-z0-9])", lock.split("\n", 2)[2])
    assert all("--hash=sha256:" in block for block in blocks if "==" in block)
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "uv pip compile pyproject.toml --extra postgres" in readme  # how to refresh it


def _image_health_command(port: int) -> list[str]:
    match = re.search(r"^HEALTHCHECK .*?CMD (\[.*?\])$", DOCKERFILE, re.M | re.S)
    assert match, "the image has a HEALTHCHECK"
    command = json.loads(match.group(1).replace("\\\n", ""))
    assert command[0] == "python" and "/healthz" in command[-1]
    return [sys.executable, *(part.replace(":9108/", f":{port}/") for part in command[1:])]


async def test_the_image_health_check_hits_healthz(engine: Engine) -> None:
    record_job(engine, "collect", ok=True)
    runner = await serve_ops(ops_app(Settings(), engine), "127.0.0.1", 0)
    try:
        assert await _run(_image_health_command(runner.addresses[0][1])) == 0
    finally:
        await runner.cleanup()


@pytest.mark.parametrize("argv", [["db", "upgrade"], ["run"]])
def test_the_commands_the_containers_run_exist(argv: list[str]) -> None:
    script = Path(sys.executable).parent / "hotpapers"
    result = subprocess.run(
        [str(script), *argv, "--help"], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr


def _health_command(port: int) -> list[str]:
    test = SERVICES["hotpapers"]["healthcheck"]["test"]
    assert test[0] == "CMD"
    command = [part.replace(":9108/", f":{port}/") for part in test[1:]]
    assert command[0] == "python"
    return [sys.executable, *command[1:]]


async def _run(command: list[str]) -> int:
    process = await asyncio.create_subprocess_exec(
        *command, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL
    )
    return await asyncio.wait_for(process.wait(), 60)


async def test_the_health_check_passes_when_healthy_and_fails_when_the_db_is_gone(
    engine: Engine, tmp_path: Path
) -> None:
    record_job(engine, "collect", ok=True)
    gone = create_engine(f"sqlite:///{tmp_path / 'missing-dir' / 'x.db'}")
    for database, expected in ((engine, 0), (gone, 1)):
        runner = await serve_ops(ops_app(Settings(), database), "127.0.0.1", 0)
        try:
            port = runner.addresses[0][1]
            assert await _run(_health_command(port)) == expected
        finally:
            await runner.cleanup()


def test_compose_file_is_valid_for_docker_when_available(tmp_path: Path) -> None:
    docker = shutil.which("docker")
    probe = (
        subprocess.run(
            [docker or "docker", "compose", "version"], capture_output=True, check=False, timeout=30
        )
        if docker
        else None
    )
    if probe is None or probe.returncode != 0:
        pytest.skip("docker compose is not installed here; the YAML checks above stand in")
    shutil.copy(ROOT / "docker-compose.yml", tmp_path / "docker-compose.yml")
    (tmp_path / ".env").write_text("POSTGRES_PASSWORD=x\n")
    (tmp_path / "config.toml").write_text("")
    result = subprocess.run(
        [str(docker), "compose", "config", "--quiet"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
