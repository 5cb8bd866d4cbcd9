"""A small FHIR R4 REST client: search with Bundle.link[next] paging, read, conditional create
(If-None-Exist) and versioned update (If-Match), with SMART Backend Services tokens.

Errors are sorted for the caller: `EhrAuthError` (credentials refused even after a fresh token:
mark the connection broken), `EhrUnavailable` (429, 5xx, network: back off, honouring
Retry-After), `PreconditionFailed` (412: someone changed the resource since our version),
`FhirRefused` (another 4xx, with the server's OperationOutcome text).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin

import httpx

from slotoptim.listener.ehr.smart import EhrAuthError, EhrUnavailable, TokenSource

FHIR_JSON = "application/fhir+json"


class FhirRefused(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"{status}: {message}")
        self.status = status


class PreconditionFailed(FhirRefused):
    """412: the resource changed since the version we named (If-Match), or a conditional create
    matched more than one resource."""


@dataclass(frozen=True)
class Written:
    id: str
    version: str | None
    created: bool


def _diagnostics(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:200]
    issues = body.get("issue", []) if isinstance(body, dict) else []
    texts = [str(i.get("diagnostics") or (i.get("details") or {}).get("text") or i.get("code")) for i in issues]
    return "; ".join(texts) or response.reason_phrase


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After", "")
    return float(value) if value.isdigit() else None


class FhirClient:
    def __init__(self, base_url: str, tokens: TokenSource | None, http: httpx.Client) -> None:
        self.base_url = base_url.rstrip("/") + "/"
        self.tokens = tokens
        self.http = http

    def _request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        target = url if url.startswith(("http://", "https://")) else urljoin(self.base_url, url)
        for attempt in (1, 2):
            headers = {"Accept": FHIR_JSON, **kwargs.pop("headers", {})}
            if self.tokens is not None:
                headers["Authorization"] = f"Bearer {self.tokens.token()}"
            try:
                response = self.http.request(method, target, headers=headers, **kwargs)
            except httpx.HTTPError as exc:
                raise EhrUnavailable(f"{method} {target}: {type(exc).__name__}") from None
            if response.status_code == 401 and attempt == 1 and self.tokens is not None:
                # The token may have been revoked or expired early: one fresh token, then give up.
                self.tokens.invalidate()
                kwargs["headers"] = {k: v for k, v in headers.items() if k != "Authorization"}
                continue
            break
        if response.status_code in (401, 403):
            raise EhrAuthError(f"{method} {target}: {response.status_code} {_diagnostics(response)}")
        if response.status_code == 429 or response.status_code >= 500:
            raise EhrUnavailable(f"{method} {target}: {response.status_code}", _retry_after(response))
        if response.status_code == 412:
            raise PreconditionFailed(412, _diagnostics(response))
        if response.status_code >= 400:
            raise FhirRefused(response.status_code, _diagnostics(response))
        return response

    def read(self, resource_type: str, ident: str) -> dict[str, Any] | None:
        try:
            body: dict[str, Any] = self._request("GET", f"{resource_type}/{ident}").json()
        except FhirRefused as exc:
            if exc.status in (404, 410):
                return None
            raise
        return body

    def search_pages(self, resource_type: str, params: dict[str, str]) -> Iterator[list[dict[str, Any]]]:
        """The resources of each page of a search, following Bundle.link[next] to the end."""
        response = self._request("GET", resource_type, params=params)
        seen: set[str] = set()
        while True:
            bundle = response.json()
            if bundle.get("resourceType") != "Bundle":
                raise FhirRefused(response.status_code, "a search did not answer a Bundle")
            yield [e["resource"] for e in bundle.get("entry", []) if isinstance(e.get("resource"), dict)]
            next_url = next((link["url"] for link in bundle.get("link", []) if link.get("relation") == "next"), None)
            if next_url is None or next_url in seen:
                return
            seen.add(next_url)
            response = self._request("GET", next_url)

    def create_if_none_exist(self, resource: dict[str, Any], condition: str) -> Written:
        """Conditional create: the server creates the resource only if nothing matches `condition`
        (e.g. identifier=urn:slotoptim:appointment|42), so a retried write never creates two."""
        response = self._request(
            "POST",
            resource["resourceType"],
            json=resource,
            headers={"Content-Type": FHIR_JSON, "If-None-Exist": condition},
        )
        return self._written(response, response.status_code == 201)

    def update(self, resource: dict[str, Any], version: str | None) -> Written:
        """Update; with a version, only if the server still has that version (If-Match)."""
        headers = {"Content-Type": FHIR_JSON}
        if version is not None:
            headers["If-Match"] = f'W/"{version}"'
        response = self._request("PUT", f"{resource['resourceType']}/{resource['id']}", json=resource, headers=headers)
        return self._written(response, response.status_code == 201)

    def delete(self, resource_type: str, ident: str) -> None:
        self._request("DELETE", f"{resource_type}/{ident}")

    @staticmethod
    def _written(response: httpx.Response, created: bool) -> Written:
        body = response.json() if response.content else {}
        meta = body.get("meta", {}) if isinstance(body, dict) else {}
        return Written(id=str(body.get("id", "")), version=meta.get("versionId"), created=created)
