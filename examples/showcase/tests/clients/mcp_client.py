"""The official MCP Python SDK against the showcase's `POST /mcp`.

Run by `examples/showcase/tests/outside_clients.rs` with the showcase's address.
Everything the SDK does here it does by itself, as it would against any MCP
server: the 401's `resource_metadata` (RFC 9728), the protected-resource
metadata and its `resource` check, the authorization server's RFC 8414
metadata, a `client_credentials` token for the resource (RFC 8707), then
`initialize`, `tools/list` and `tools/call` — and, when a tool needs a scope the
token lacks, the 403 `insufficient_scope` step-up. Prints one JSON line of
findings; the Rust test asserts on them. Exits non-zero on any failure.
"""

import asyncio
import json
import sys

import httpx2
from mcp import Client
from mcp.client.auth.extensions.client_credentials import ClientCredentialsOAuthProvider
from mcp.client.auth.utils import extract_resource_metadata_from_www_auth
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.auth import OAuthClientInformationFull, OAuthToken, ProtectedResourceMetadata
from mcp.shared.auth_utils import check_resource_allowed, resource_url_from_server_url
from mcp.shared.exceptions import MCPError


class Storage:
    def __init__(self) -> None:
        self.tokens: OAuthToken | None = None
        self.client_info: OAuthClientInformationFull | None = None

    async def get_tokens(self) -> OAuthToken | None:
        return self.tokens

    async def set_tokens(self, tokens: OAuthToken) -> None:
        self.tokens = tokens

    async def get_client_info(self) -> OAuthClientInformationFull | None:
        return self.client_info

    async def set_client_info(self, client_info: OAuthClientInformationFull) -> None:
        self.client_info = client_info


class Recorder:
    """Every request the SDK sends and what it got, in order."""

    def __init__(self) -> None:
        self.seen: list[str] = []

    async def __call__(self, response: httpx2.Response) -> None:
        self.seen.append(f"{response.request.method} {response.request.url.path} {response.status_code}")


async def session(base: str, client_id: str, secret: str) -> dict:
    url = f"{base}/mcp"
    storage = Storage()
    oauth = ClientCredentialsOAuthProvider(
        server_url=url,
        storage=storage,
        client_id=client_id,
        client_secret=secret,
        issuer=f"{base}/partner",
    )
    recorder = Recorder()
    found: dict = {}
    try:
        async with httpx2.AsyncClient(auth=oauth, event_hooks={"response": [recorder]}) as http:
            async with Client(streamable_http_client(url, http_client=http)) as client:
                found["server"] = client.server_info.name if client.server_info else None
                found["protocol"] = client.protocol_version
                tools = await client.list_tools()
                found["tools"] = [tool.name for tool in tools.tools]
                whoami = await client.call_tool("whoami", {})
                found["whoami"] = whoami.structured_content
                try:
                    await client.call_tool("no.such.tool", {})
                except MCPError as e:  # a protocol error (MCP: unknown tools)
                    found["unknown_tool_error"] = e.error.code
                # Last: for a client that may not have the scope, the step-up
                # fails, and with it the connection.
                orders = await client.call_tool("orders.list", {})
                found["orders"] = orders.structured_content
    except BaseException as e:  # noqa: BLE001 - an ExceptionGroup from the task group too
        found["error"] = f"{type(e).__name__}: {e!r}"[:2000]
    found["granted_scope"] = storage.tokens.scope if storage.tokens else None
    found["requests"] = recorder.seen
    return found


async def resource_check(base: str, method: str, path: str) -> dict:
    """RFC 9728 §3.3 as the SDK does it, from a protected route called without
    a token: the 401's `resource_metadata`, the metadata, and whether its
    `resource` is the called URL or a prefix of it."""
    url = f"{base}{path}"
    async with httpx2.AsyncClient() as http:
        answer = await http.request(method, url)
        found = {"status": answer.status_code}
        metadata_url = extract_resource_metadata_from_www_auth(answer)
        found["metadata_url"] = metadata_url
        if metadata_url:
            doc = await http.get(metadata_url)
            prm = ProtectedResourceMetadata.model_validate_json(doc.text)
            found["resource"] = str(prm.resource)
            found["allowed"] = check_resource_allowed(
                requested_resource=resource_url_from_server_url(url),
                configured_resource=str(prm.resource),
            )
    return found


async def main() -> None:
    base = sys.argv[1]
    results = {
        "me": await resource_check(base, "GET", "/me"),
        "mcp_resource": await resource_check(base, "POST", "/mcp"),
        "full": await session(base, "mcp-demo", "mcp-demo-secret"),
        "limited": await session(base, "mcp-limited", "mcp-limited-secret"),
    }
    print(json.dumps(results))


if __name__ == "__main__":
    asyncio.run(main())
