"""Medplum's FHIR router with its in-memory repository (npm @medplum/fhir-router, pinned in
tests/fhir_server/package-lock.json; `make fhir-server` installs it), served by
tests/fhir_server/server.mjs on a free loopback port, with a SMART Backend Services token endpoint
that knows our test clients' public keys."""

from __future__ import annotations

import json
import secrets
import shutil
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from slotoptim.listener.ehr.smart import BackendCredentials, generate_key, public_jwks

SERVER_DIR = Path(__file__).resolve().parents[2] / "fhir_server"
# Node 20 has WebSocket (which @medplum/core needs at import) behind a flag; 22+ has it anyway.
NODE_FLAGS = ["--experimental-websocket"]


@dataclass
class Medplum:
    origin: str
    admin_token: str
    keys: dict[str, dict[str, Any]]  # client id -> private JWK

    @property
    def base_url(self) -> str:
        return f"{self.origin}/fhir/R4"

    @property
    def token_url(self) -> str:
        return f"{self.origin}/auth/token"

    def credentials(self, client_id: str = "slotoptim-rs384") -> BackendCredentials:
        return BackendCredentials(self.token_url, client_id, self.keys[client_id])

    def reset(self) -> None:
        httpx.post(f"{self.origin}/admin/reset", headers={"x-admin-token": self.admin_token}).raise_for_status()


def node_available() -> bool:
    return shutil.which("node") is not None and (SERVER_DIR / "node_modules" / "@medplum" / "fhir-router").is_dir()


def _node_flags() -> list[str]:
    version = subprocess.run(["node", "--version"], capture_output=True, text=True, check=True).stdout
    return NODE_FLAGS if int(version.strip().lstrip("v").split(".")[0]) < 22 else []


def start_medplum(work: Path) -> Iterator[Medplum]:
    keys = {"slotoptim-rs384": generate_key("RS384"), "slotoptim-es384": generate_key("ES384")}
    admin = secrets.token_hex(16)
    config = work / "medplum.json"
    config.write_text(
        json.dumps({"clients": {cid: {"jwks": public_jwks(k)} for cid, k in keys.items()}, "adminToken": admin})
    )
    process = subprocess.Popen(
        ["node", *_node_flags(), str(SERVER_DIR / "server.mjs"), "0", str(config)],
        cwd=SERVER_DIR,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        if not line.startswith("listening "):
            raise RuntimeError(f"the Medplum test server did not start: {line}{process.stdout.read()[:2000]}")
        # Keep reading what the server prints, so a full pipe can never stall it.
        threading.Thread(target=process.stdout.read, daemon=True).start()
        yield Medplum(f"http://127.0.0.1:{int(line.split()[1])}", admin, keys)
    finally:
        process.terminate()
        process.wait(timeout=10)
