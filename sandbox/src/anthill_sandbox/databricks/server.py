"""The HTTP side: routing, query parsing, bearer-token and OAuth client-credentials auth, SCIM ``Me``, the server."""

from __future__ import annotations

import base64
import json
import re
import secrets
import time
import zlib
from collections.abc import Callable
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qs, urlsplit

from anthill_sandbox.databricks.errors import ApiError, invalid
from anthill_sandbox.databricks.files import FILES_PREFIX, Files, split_path
from anthill_sandbox.databricks.jobs import Jobs
from anthill_sandbox.databricks.policies import Policies
from anthill_sandbox.databricks.state import Echo, Principal, WorkspaceState
from anthill_sandbox.loopback import JsonHandler, LoopbackServer

TOKEN_LIFETIME = 3600
ME_PATH = "/api/2.0/preview/scim/v2/Me"
POLICIES = "/api/2.0/policies/clusters"


def me(query: dict[str, Any], principal: Principal) -> dict[str, Any]:
    """SCIM ``Me``: who the credentials act as (the workspace id travels in a response header)."""
    return {
        "id": str(zlib.crc32(principal.name.encode())),
        "userName": principal.name,
        "displayName": principal.name,
        "active": True,
    }


# Query parameters of the GET endpoints, typed as the SDK sends them.
GET_PARAMS: dict[str, dict[str, type]] = {
    "jobs/get": {"job_id": int, "include_trigger_state": bool, "page_token": str},
    "jobs/list": {"expand_tasks": bool, "limit": int, "name": str, "offset": int, "page_token": str},
    "jobs/runs/get": {"run_id": int, "include_history": bool, "include_resolved_values": bool, "page_token": str},
    "jobs/runs/list": {"active_only": bool, "completed_only": bool, "expand_tasks": bool, "job_id": int,
                       "limit": int, "offset": int, "page_token": str, "run_type": str,
                       "start_time_from": int, "start_time_to": int},
    "jobs/runs/get-output": {"run_id": int},
    ME_PATH: {"attributes": str, "excludedAttributes": str},
}  # fmt: skip
GET_PARAMS[POLICIES + "/get"] = {"policy_id": str}
GET_PARAMS[POLICIES + "/list"] = {"sort_column": str, "sort_order": str}
REQUIRED_PARAMS = {"jobs/get": "job_id", "jobs/runs/get": "run_id", "jobs/runs/get-output": "run_id",
                   POLICIES + "/get": "policy_id"}  # fmt: skip


def parse_query(endpoint: str, raw: str) -> dict[str, Any]:
    """The query string as typed values; unknown parameters are rejected like unknown body fields."""
    types_ = GET_PARAMS[endpoint]
    out: dict[str, Any] = {}
    for name, values in parse_qs(raw).items():
        kind = types_.get(name)
        if kind is None:
            raise invalid(f"Unknown parameter {name}")
        value = values[-1]
        if kind is bool:
            if value.lower() not in ("true", "false"):
                raise invalid(f"Invalid value for {name}: expected true or false")
            out[name] = value.lower() == "true"
        elif kind is int:
            if not re.fullmatch(r"-?\d+", value):
                raise invalid(f"Invalid value for {name}: expected an integer")
            out[name] = int(value)
        else:
            out[name] = value
    required = REQUIRED_PARAMS.get(endpoint)
    if required and required not in out:
        raise invalid(f"Missing required field: {required}")
    return out


class Handler(JsonHandler):
    server: DatabricksServer

    def do_GET(self) -> None:  # noqa: N802 - http.server names it
        self._handle("GET")

    def do_POST(self) -> None:  # noqa: N802 - http.server names it
        self._handle("POST")

    def do_PUT(self) -> None:  # noqa: N802 - http.server names it
        self._handle("PUT")

    def do_HEAD(self) -> None:  # noqa: N802 - http.server names it
        self._handle("HEAD")

    def do_DELETE(self) -> None:  # noqa: N802 - http.server names it
        self._handle("DELETE")

    def _handle(self, method: str) -> None:
        url = urlsplit(self.path)
        raw = self._body()
        try:
            if url.path.startswith(FILES_PREFIX):
                self._files(method, url.path, url.query, raw)
            elif url.path.startswith("/api/"):
                body = self._api(method, url.path, url.query, raw)
                org = {"X-Databricks-Org-Id": str(self.server.state.workspace_id)}
                self._send(HTTPStatus.OK, body, org if url.path == ME_PATH else None)
            elif (method, url.path) == ("GET", "/_sandbox/stats"):
                with self.server.state.lock:
                    requests = dict(self.server.state.requests)
                self._send(HTTPStatus.OK, {"requests": requests, "total": sum(requests.values())})
            elif (method, url.path) == ("GET", "/.well-known/databricks-config"):
                self._send(HTTPStatus.OK, {"oidc_endpoint": f"{self.server.url}/oidc"})
            elif (method, url.path) == ("GET", "/oidc/.well-known/oauth-authorization-server"):
                self._send(HTTPStatus.OK, {"authorization_endpoint": f"{self.server.url}/oidc/v1/authorize",
                                           "token_endpoint": f"{self.server.url}/oidc/v1/token"})  # fmt: skip
            elif (method, url.path) == ("POST", "/oidc/v1/token"):
                self._token(raw)
            else:
                raise ApiError(
                    HTTPStatus.NOT_FOUND, "ENDPOINT_NOT_FOUND", f"No API found for '{method} {url.path}'"
                )
        except ApiError as exc:
            if method == "HEAD":  # a HEAD answer has no body: the status says it all
                self._send_head(exc.status, exc.headers, 0, "application/json")
            elif exc.raw is not None:
                self._send_raw(exc.status, exc.raw, exc.headers, exc.content_type)
            else:
                self._send(exc.status, {"error_code": exc.code, "message": str(exc)}, exc.headers)

    def _body(self) -> bytes:
        """The request body, sent with a length or in chunks (a streamed upload)."""
        if self.headers.get("Transfer-Encoding", "").lower() != "chunked":
            return self.rfile.read(int(self.headers.get("Content-Length") or 0))
        chunks = []
        while size := int(self.rfile.readline().split(b";")[0].strip() or b"0", 16):
            chunks.append(self.rfile.read(size))
            self.rfile.readline()
        while self.rfile.readline().strip():  # trailers, up to the blank line
            pass
        return b"".join(chunks)

    def _files(self, method: str, path: str, query: str, raw: bytes) -> None:
        """The Files API: raw bytes in and out, headers for metadata."""
        kind, file_path = split_path(path)
        self._admit(method, path, f"{method} fs/{kind}")
        headers = {name.lower(): value for name, value in self.headers.items()}
        answer = self.server.files.handle(method, kind, file_path, query, raw, headers)
        if method == "HEAD":
            self._send_head(answer.status, answer.headers, len(answer.body), answer.content_type)
        elif answer.status == HTTPStatus.NO_CONTENT:
            self._send_head(answer.status, answer.headers, None, answer.content_type)
        else:
            extra = {name: value for name, value in answer.headers.items() if name != "Content-Length"}
            self._send_raw(answer.status, answer.body, extra, answer.content_type)

    def _send_head(self, status: HTTPStatus, headers: dict[str, str], length: int | None,
                   content_type: str) -> None:  # fmt: skip
        """Status and headers only: a HEAD answer (announcing ``length``) or a 204."""
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        if length is not None:
            self.send_header("Content-Length", str(length))
        for name, value in headers.items():
            if name != "Content-Length":
                self.send_header(name, value)
        self.end_headers()

    def _api(self, method: str, path: str, query: str, raw: bytes) -> dict[str, Any]:
        match = re.fullmatch(r"/api/2\.2/(jobs/.+)", path)
        endpoint = match.group(1) if match else path
        principal = self._admit(method, path, endpoint)
        route = self.server.routes.get((method, endpoint))
        if route is None:
            raise ApiError(HTTPStatus.NOT_FOUND, "ENDPOINT_NOT_FOUND", f"No API found for '{method} {path}'")
        if method == "GET":
            return route(parse_query(endpoint, query), principal)
        try:
            body = json.loads(raw or b"{}")
        except json.JSONDecodeError:
            raise ApiError(HTTPStatus.BAD_REQUEST, "MALFORMED_REQUEST", "Request body is not JSON") from None
        if not isinstance(body, dict):
            raise ApiError(HTTPStatus.BAD_REQUEST, "MALFORMED_REQUEST", "Request body must be a JSON object")
        return route(body, principal)

    def _admit(self, method: str, path: str, endpoint: str) -> Principal:
        """Count the request, apply the injected faults, authenticate: who the request acts as."""
        state = self.server.state
        with state.lock:
            state.requests[endpoint] += 1
        if state.faults.echo is not None:
            raise self._echo(method, path, state.faults.echo)
        principal = self._authenticate()
        if state.faults.delay:
            time.sleep(state.faults.delay)  # an injected slow response: the delay is the point
        fault = state.fault()
        if fault == HTTPStatus.TOO_MANY_REQUESTS:
            raise ApiError(fault, "REQUEST_LIMIT_EXCEEDED", "Too many requests to the Jobs API; slow down.",
                           {"Retry-After": str(state.faults.retry_after)})  # fmt: skip
        if fault == HTTPStatus.INTERNAL_SERVER_ERROR:
            raise ApiError(fault, "INTERNAL_ERROR", "The Jobs service failed to handle the request.")
        return principal

    def _echo(self, method: str, path: str, echo: Echo) -> ApiError:
        """The echo fault's answer: what was asked, headers and all, then the echo's text."""
        lines = [f"{method} {path}", *(f"{name}: {value}" for name, value in self.headers.items()), echo.text]
        body = "\n".join(lines)
        if echo.shape == "databricks":
            return ApiError(HTTPStatus(echo.status), "INTERNAL_ERROR", f"The request failed:\n{body}")
        return ApiError(HTTPStatus(echo.status), "", body, raw=body.encode(), content_type="text/plain")

    def _authenticate(self) -> Principal:
        header = self.headers.get("Authorization", "")
        if not header.startswith("Bearer "):
            raise ApiError(HTTPStatus.UNAUTHORIZED, "UNAUTHENTICATED",
                           "Credential was not sent or was of an unsupported type for this API.")  # fmt: skip
        principal = self.server.state.principal(header.removeprefix("Bearer ").strip())
        if principal is None:
            raise ApiError(HTTPStatus.UNAUTHORIZED, "UNAUTHENTICATED", "Invalid access token.")
        return principal

    def _token(self, raw: bytes) -> None:
        """OAuth client credentials: the client id and secret as HTTP Basic auth or form fields."""
        form = {k: v[-1] for k, v in parse_qs(raw.decode()).items()}
        client_id, client_secret = form.get("client_id", ""), form.get("client_secret", "")
        header = self.headers.get("Authorization", "")
        if header.startswith("Basic "):
            decoded = base64.b64decode(header.removeprefix("Basic ")).decode()
            client_id, _, client_secret = decoded.partition(":")
        known = self.server.state.oauth_clients.get(client_id)
        if form.get("grant_type") != "client_credentials":
            self._send(HTTPStatus.BAD_REQUEST, {"error": "unsupported_grant_type",
                                                "error_description": "Only client_credentials is supported"})  # fmt: skip
            return
        if known is None or not secrets.compare_digest(known, client_secret):
            self._send(HTTPStatus.UNAUTHORIZED, {"error": "invalid_client",
                                                 "error_description": "Client authentication failed"})  # fmt: skip
            return
        token = self.server.state.issue_token(Principal(client_id, service_principal=True))
        self._send(HTTPStatus.OK, {"access_token": token, "token_type": "Bearer", "expires_in": TOKEN_LIFETIME,
                                   "scope": form.get("scope", "all-apis")})  # fmt: skip


class DatabricksServer(LoopbackServer):
    """The Jobs API on ``127.0.0.1:port`` (0 picks a free port); run it with :meth:`start` or ``serve_forever``."""

    thread_name = "sandbox-databricks"

    def __init__(self, port: int = 0, state: WorkspaceState | None = None) -> None:
        self.state = state or WorkspaceState()
        super().__init__(port, Handler)
        self.jobs = Jobs(self.state, lambda: self.url)
        self.policies = Policies(self.state)
        self.files = Files(self.state)
        self.routes: dict[tuple[str, str], Callable[[dict[str, Any], Principal], dict[str, Any]]] = {
            ("POST", "jobs/create"): self.jobs.create,
            ("POST", "jobs/reset"): self.jobs.reset,
            ("POST", "jobs/update"): self.jobs.update,
            ("POST", "jobs/delete"): self.jobs.delete,
            ("POST", "jobs/run-now"): self.jobs.run_now,
            ("GET", "jobs/get"): self.jobs.get,
            ("GET", "jobs/list"): self.jobs.list,
            ("GET", "jobs/runs/get"): self.jobs.get_run,
            ("GET", "jobs/runs/list"): self.jobs.list_runs,
            ("GET", "jobs/runs/get-output"): self.jobs.get_output,
            ("POST", "jobs/runs/cancel"): self.jobs.cancel_run,
            ("POST", "jobs/runs/cancel-all"): self.jobs.cancel_all_runs,
            ("GET", ME_PATH): me,
            ("POST", POLICIES + "/create"): self.policies.create,
            ("POST", POLICIES + "/edit"): self.policies.edit,
            ("POST", POLICIES + "/delete"): self.policies.delete,
            ("GET", POLICIES + "/get"): self.policies.get,
            ("GET", POLICIES + "/list"): self.policies.list,
        }

    def stop(self) -> None:
        """Stop serving, then cancel the runs still executing (their processes with them) and wait for them."""
        super().stop()
        self.jobs.runner.shutdown()
