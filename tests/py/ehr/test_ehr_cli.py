"""`slotoptim ehr`: keygen, connect, sync and push against Medplum; bad input exits 2 naming the option."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from api.conftest import ApiDb
from ehr.medplum import Medplum
from integrations.practice import use_test_key

from slotoptim.listener.cli import main


def test_connect_and_sync_from_the_command_line(
    api_db: ApiDb,
    medplum: Medplum,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    use_test_key(monkeypatch)
    monkeypatch.setenv("DATABASE_URL", api_db.url)
    medplum.reset()
    key_file = tmp_path / "key.json"
    assert main(["ehr", "keygen", "--out", str(key_file), "--alg", "ES384"]) == 0
    jwks = json.loads(capsys.readouterr().out)
    assert "d" not in jwks["keys"][0] and key_file.stat().st_mode & 0o777 == 0o600
    # The EHR knows our RS384 test key; use it for the connection.
    key_file.write_text(json.dumps(medplum.keys["slotoptim-rs384"]))
    args = [
        "ehr",
        "connect",
        "--org",
        "acme",
        "--base-url",
        medplum.base_url,
        "--token-url",
        medplum.token_url,
        "--client-id",
        "slotoptim-rs384",
        "--key-file",
        str(key_file),
    ]
    assert main(args) == 0
    assert json.loads(capsys.readouterr().out)["org"] == "acme"
    assert main(["ehr", "sync", "--org", "acme"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["full"] and report["error"] is None
    assert main(["ehr", "push"]) == 0


def test_bad_input_exits_2(
    api_db: ApiDb, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    use_test_key(monkeypatch)
    monkeypatch.setenv("DATABASE_URL", api_db.url)
    assert main(["ehr", "sync", "--org", "nobody"]) == 2
    assert "--org" in capsys.readouterr().err
    assert main(["ehr", "sync", "--org", "acme"]) == 2
    assert "no EHR connection" in capsys.readouterr().err
    (tmp_path / "bad.json").write_text("{}")
    args = [
        "ehr",
        "connect",
        "--org",
        "acme",
        "--base-url",
        "https://ehr.example/fhir/R4",
        "--token-url",
        "https://ehr.example/token",
        "--client-id",
        "x",
        "--key-file",
        str(tmp_path / "bad.json"),
    ]
    assert main(args) == 2
    assert "--key-file" in capsys.readouterr().err
    args[args.index("--base-url") + 1] = "ftp://nope"
    assert main(args) == 2
    assert "--base-url" in capsys.readouterr().err
    existing = tmp_path / "exists.json"
    existing.write_text("{}")
    assert main(["ehr", "keygen", "--out", str(existing)]) == 2
