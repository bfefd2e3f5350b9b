//! A Model Context Protocol server at `POST /mcp` (Streamable HTTP, JSON
//! answers), protected as the MCP authorization specification asks: tokens of
//! the partner (the authorization server) issued for this resource (`aud`), with
//! scope `mcp:tools`. Without one, the 401 points to the resource's metadata
//! (RFC 9728); a tool that needs more answers 403 `insufficient_scope` naming
//! every scope the call needs, so a client can step up.
//!
//! The protocol's messages are `rmcp`'s types; what is written here is the HTTP
//! side Rocket needs. Stateless: no `Mcp-Session-Id` is issued, so any instance
//! answers any request; `GET` and `DELETE` answer 405 (no stream, no session).

use std::borrow::Cow;

use rmcp::model::{
    CallToolRequestParams, CallToolResult, ClientJsonRpcMessage, ClientRequest, ContentBlock,
    EmptyResult, ErrorData, Implementation, InitializeResult, JsonObject, JsonRpcMessage,
    ListToolsResult, ProtocolVersion, ServerCapabilities, ServerJsonRpcMessage, ServerResult, Tool,
    ToolsCapability,
};
use rocket::data::{Data, ToByteUnit};
use rocket::http::{ContentType, Status};
use rocket::request::{FromRequest, Outcome, Request};
use rocket::response::{self, Responder, Response};
use rocket::{post, routes, Route};
use serde_json::{json, Value};

use jwt_guard::{use_jwt, AuthError, Jwt};

use crate::partner::PartnerClaims;

/// The scope every call needs (the route's own), and the one the orders tool
/// needs besides.
const ORDERS_SCOPE: &str = "orders:read";
/// What a client lacking [`ORDERS_SCOPE`] is told to ask for: every scope the call
/// needs, not only the missing one (MCP authorization, scope challenges).
const ORDERS_CHALLENGE: &str = "mcp:tools orders:read";

/// The largest message read (a tool call's arguments are small).
const MAX_MESSAGE: u64 = 64 * 1024;

/// The versions with an `initialize` handshake this server speaks, oldest first.
fn supported_versions() -> [ProtocolVersion; 3] {
    [
        ProtocolVersion::V_2025_03_26,
        ProtocolVersion::V_2025_06_18,
        ProtocolVersion::V_2025_11_25,
    ]
}

/// The request headers the transport rules look at: `MCP-Protocol-Version`,
/// `Accept` and `Origin`.
struct Transport<'r> {
    protocol_version: Option<&'r str>,
    accepts_json: bool,
    origin: Option<&'r str>,
    /// The showcase's own origin, from its configuration.
    own_origin: String,
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for Transport<'r> {
    type Error = ();

    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, ()> {
        let headers = req.headers();
        let accepts_json = headers.get("Accept").next().is_none()
            || headers.get("Accept").any(|a| {
                a.split(',').any(|t| {
                    let t = t.split(';').next().unwrap_or_default().trim();
                    t == "application/json" || t == "application/*" || t == "*/*"
                })
            });
        let config = req.rocket().config();
        let own_origin = crate::origin(config.address, config.port);
        Outcome::Success(Transport {
            protocol_version: headers.get_one("MCP-Protocol-Version"),
            accepts_json,
            origin: headers.get_one("Origin"),
            own_origin,
        })
    }
}

/// What `POST /mcp` answers: a JSON-RPC message, `202` for a notification or a
/// response, or an HTTP refusal of the transport.
enum Answer {
    Message(Status, Box<ServerJsonRpcMessage>),
    Accepted,
    Refused(Status, &'static str),
}

impl<'r> Responder<'r, 'static> for Answer {
    fn respond_to(self, _: &'r Request<'_>) -> response::Result<'static> {
        match self {
            Answer::Message(status, message) => {
                let body =
                    serde_json::to_string(&message).map_err(|_| Status::InternalServerError)?;
                Response::build()
                    .status(status)
                    .header(ContentType::JSON)
                    .sized_body(body.len(), std::io::Cursor::new(body))
                    .ok()
            }
            Answer::Accepted => Response::build().status(Status::Accepted).ok(),
            Answer::Refused(status, why) => {
                let body =
                    json!({ "error": "invalid_request", "error_description": why }).to_string();
                Response::build()
                    .status(status)
                    .header(ContentType::JSON)
                    .sized_body(body.len(), std::io::Cursor::new(body))
                    .ok()
            }
        }
    }
}

/// A transport refusal, as a JSON-RPC error (no request id is known yet).
fn refused(status: Status, why: &'static str) -> Answer {
    let message = JsonRpcMessage::error(ErrorData::invalid_request(why, None), None);
    Answer::Message(status, Box::new(message))
}

/// A JSON-RPC error answer to request `id`.
fn error(id: Option<rmcp::model::RequestId>, error: ErrorData) -> Answer {
    let status = if id.is_none() {
        Status::BadRequest
    } else {
        Status::Ok
    };
    Answer::Message(status, Box::new(JsonRpcMessage::error(error, id)))
}

/// The MCP endpoint (Streamable HTTP, 2025-03-26 to 2025-11-25).
#[use_jwt(issuer = "partner", claims = PartnerClaims, scope = "mcp:tools")]
#[post("/mcp", data = "<body>")]
async fn mcp(
    jwt: Jwt<PartnerClaims>,
    transport: Transport<'_>,
    body: Data<'_>,
) -> Result<Answer, AuthError> {
    // Transport rules: a browser page of another origin is refused (DNS
    // rebinding), a client that cannot take JSON is told so, and a version the
    // client says it speaks must be one this server does.
    if transport
        .origin
        .is_some_and(|origin| origin != transport.own_origin)
    {
        return Ok(Answer::Refused(
            Status::Forbidden,
            "requests from another origin are refused",
        ));
    }
    if !transport.accepts_json {
        let why = "this server answers application/json";
        return Ok(refused(Status::NotAcceptable, why));
    }
    if let Some(version) = transport.protocol_version {
        if !supported_versions().iter().any(|v| v.as_str() == version) {
            return Ok(refused(
                Status::BadRequest,
                "unsupported MCP-Protocol-Version",
            ));
        }
    }
    let text = match body.open(MAX_MESSAGE.bytes()).into_string().await {
        Ok(text) if text.is_complete() => text.into_inner(),
        Ok(_) => return Ok(refused(Status::PayloadTooLarge, "the message is too large")),
        Err(_) => return Ok(refused(Status::BadRequest, "the body could not be read")),
    };
    let message: ClientJsonRpcMessage = match serde_json::from_str::<Value>(&text).map(whole_id) {
        Err(e) => return Ok(error(None, ErrorData::parse_error(e.to_string(), None))),
        Ok(Value::Array(_)) => {
            let why = "batches are not part of this protocol version";
            return Ok(error(None, ErrorData::invalid_request(why, None)));
        }
        Ok(value) if !well_formed(&value) => {
            let why = "not a JSON-RPC 2.0 message: `jsonrpc` is \"2.0\", `method` a \
                       non-empty string, `id` a string or number, `params` an object";
            return Ok(error(None, ErrorData::invalid_request(why, None)));
        }
        Ok(value) => match serde_json::from_value(value) {
            Ok(message) => message,
            Err(e) => return Ok(error(None, ErrorData::invalid_request(e.to_string(), None))),
        },
    };
    let (request, id) = match message {
        JsonRpcMessage::Request(r) => (r.request, r.id),
        // Notifications (`notifications/initialized`) and responses: accepted.
        _ => return Ok(Answer::Accepted),
    };
    let result = match request {
        ClientRequest::InitializeRequest(init) => {
            ServerResult::InitializeResult(initialize(&init.params.protocol_version))
        }
        ClientRequest::PingRequest(_) => ServerResult::EmptyResult(EmptyResult {}),
        ClientRequest::ListToolsRequest(_) => {
            ServerResult::ListToolsResult(ListToolsResult::with_all_items(tools()))
        }
        ClientRequest::CallToolRequest(call) => match call_tool(&jwt, &call.params)? {
            Ok(result) => ServerResult::CallToolResult(result),
            Err(e) => return Ok(error(Some(id), e)),
        },
        other => {
            let message = format!("method `{}` is not offered here", other.method());
            let e = ErrorData::new(rmcp::model::ErrorCode::METHOD_NOT_FOUND, message, None);
            return Ok(error(Some(id), e));
        }
    };
    Ok(Answer::Message(
        Status::Ok,
        Box::new(JsonRpcMessage::response(result, id)),
    ))
}

/// An id written as a number with a zero fraction (`7.0`) is the whole number
/// it equals (JSON does not tell them apart).
fn whole_id(mut message: Value) -> Value {
    let whole = message
        .get("id")
        .and_then(Value::as_f64)
        .filter(|n| n.fract() == 0.0 && n.abs() < 9.0e15);
    if let (Some(n), Some(object)) = (whole, message.as_object_mut()) {
        object.insert("id".into(), Value::from(n as i64));
    }
    message
}

/// JSON-RPC 2.0 §4 and MCP's rules for a message a client sends: a request or
/// notification with a method, or a response to the server (which this
/// stateless server never asks for, and accepts).
fn well_formed(message: &Value) -> bool {
    let version = message.get("jsonrpc").and_then(Value::as_str) == Some("2.0");
    let id_ok = match message.get("id") {
        None => true,
        Some(id) => id.is_string() || id.is_i64() || id.is_u64(),
    };
    let is_response = message.get("result").is_some() || message.get("error").is_some();
    let method_ok = message
        .get("method")
        .and_then(Value::as_str)
        .is_some_and(|m| !m.is_empty());
    let params_ok = message.get("params").is_none_or(Value::is_object);
    version && id_ok && (is_response || (method_ok && params_ok))
}

/// The handshake: the client's version when this server speaks it, else the
/// newest this server does (the client then decides whether to go on).
fn initialize(asked: &ProtocolVersion) -> InitializeResult {
    let version = supported_versions()
        .into_iter()
        .find(|v| v == asked)
        .unwrap_or(ProtocolVersion::V_2025_11_25);
    let mut capabilities = ServerCapabilities::default();
    capabilities.tools = Some(ToolsCapability::default());
    InitializeResult::new(capabilities)
        .with_protocol_version(version)
        .with_server_info(Implementation::new(
            "jwt-guard showcase",
            env!("CARGO_PKG_VERSION"),
        ))
        .with_instructions(
            "Tools of the jwt-guard showcase: `whoami` tells who the token speaks for; \
             `orders.list` needs the scope orders:read besides mcp:tools.",
        )
}

/// An input schema: an object with no properties.
fn no_arguments() -> JsonObject {
    match json!({ "type": "object", "properties": {}, "additionalProperties": false }) {
        Value::Object(schema) => schema,
        _ => JsonObject::new(),
    }
}

/// The tools this server offers.
fn tools() -> Vec<Tool> {
    vec![
        Tool::new(
            "whoami",
            "Who the access token speaks for: subject, issuer and scopes.",
            no_arguments(),
        ),
        Tool::new(
            "orders.list",
            "The caller's orders. Needs the scope orders:read.",
            no_arguments(),
        ),
    ]
}

/// Runs a tool for the token's holder. An unknown tool is a JSON-RPC error; a
/// tool whose scope the token lacks is an HTTP 403 with the scope challenge.
fn call_tool(
    jwt: &Jwt<PartnerClaims>,
    params: &CallToolRequestParams,
) -> Result<Result<CallToolResult, ErrorData>, AuthError> {
    let scopes: Vec<&str> = jwt.scope.iter().collect();
    let answer = |value: Value| {
        let mut result = CallToolResult::success(vec![ContentBlock::text(value.to_string())]);
        result.structured_content = Some(value);
        result
    };
    match params.name.as_ref() {
        "whoami" => Ok(Ok(answer(json!({
            "sub": jwt.subject(),
            "iss": jwt.registered().iss,
            "scope": scopes,
        })))),
        "orders.list" => {
            if !jwt.scope.contains(ORDERS_SCOPE) {
                return Err(AuthError::insufficient_scope(
                    "the tool orders.list needs the scope orders:read",
                    Some(ORDERS_CHALLENGE),
                ));
            }
            Ok(Ok(answer(json!({
                "owner": jwt.subject(),
                "orders": [
                    { "id": "A-1001", "total": "12.50 EUR" },
                    { "id": "A-1002", "total": "7.00 EUR" },
                ],
            }))))
        }
        other => Ok(Err(ErrorData::invalid_params(
            Cow::Owned(format!("unknown tool `{other}`")),
            None,
        ))),
    }
}

/// The MCP endpoint's route.
pub fn routes() -> Vec<Route> {
    routes![mcp]
}
