//! What an operation takes and answers, described from the Rust types that carry
//! it (`schemars::JsonSchema`): its request body, query and header parameters,
//! and every status it answers, errors in the one error shape.

use schemars::{generate::SchemaSettings, JsonSchema, SchemaGenerator};
use serde::Serialize;
use serde_json::{json, Map, Value};

/// A schema of a type, made when the document is written (so that every schema
/// comes from one generator with one set of settings).
type SchemaOf = fn(&mut SchemaGenerator) -> schemars::Schema;

fn schema_of<T: JsonSchema>(generator: &mut SchemaGenerator) -> schemars::Schema {
    generator.subschema_for::<T>()
}

/// The body every failure carries, jwt-guard's and (with [`crate::catchers`])
/// Rocket's own: an RFC 6750 §3.1 style error code and a sentence for people.
#[derive(Serialize, JsonSchema)]
pub struct ErrorBody {
    /// The error code (`invalid_token`, `not_found`, …).
    pub error: String,
    /// What went wrong, for people. Never says whether a user exists.
    pub error_description: String,
}

#[derive(Clone)]
enum Content {
    /// `application/json` of a type.
    Json(SchemaOf),
    /// `application/x-www-form-urlencoded` fields of a type.
    Form(SchemaOf),
    /// Another media type, as text (HTML, Prometheus text).
    Text(&'static str),
    /// No body.
    Empty,
}

#[derive(Clone)]
struct Answer {
    status: u16,
    description: &'static str,
    content: Content,
}

#[derive(Clone)]
struct Parameter {
    name: &'static str,
    location: &'static str,
    required: bool,
    description: &'static str,
    schema: SchemaOf,
}

/// What one operation takes and answers, for [`document_with`](super::document_with).
/// Statuses not named here are not answered; every error is [`ErrorBody`].
///
/// ```
/// use jwt_guard::openapi::Operation;
/// # #[derive(serde::Deserialize, schemars::JsonSchema)] struct NewNote { text: String }
/// # #[derive(serde::Serialize, schemars::JsonSchema)] struct Note { id: u64, text: String }
/// let op = Operation::new("Adds a note")
///     .json_body::<NewNote>()
///     .answers::<Note>(201, "the note")
///     .errors(&[400, 401, 415, 422]);
/// ```
#[derive(Clone)]
pub struct Operation {
    summary: &'static str,
    body: Option<(Content, bool)>,
    parameters: Vec<Parameter>,
    answers: Vec<Answer>,
}

impl Operation {
    /// An operation described as `summary`.
    pub fn new(summary: &'static str) -> Self {
        Operation {
            summary,
            body: None,
            parameters: Vec::new(),
            answers: Vec::new(),
        }
    }

    /// Takes a required JSON body of type `T`.
    pub fn json_body<T: JsonSchema>(mut self) -> Self {
        self.body = Some((Content::Json(schema_of::<T>), true));
        self
    }

    /// Takes a JSON body of type `T` that may be left out.
    pub fn optional_json_body<T: JsonSchema>(mut self) -> Self {
        self.body = Some((Content::Json(schema_of::<T>), false));
        self
    }

    /// Takes a required form body (`application/x-www-form-urlencoded`) with
    /// the fields of `T`.
    pub fn form_body<T: JsonSchema>(mut self) -> Self {
        self.body = Some((Content::Form(schema_of::<T>), true));
        self
    }

    /// Takes a required body of `media_type` that is one string (a JWT, say).
    pub fn text_body(mut self, media_type: &'static str) -> Self {
        self.body = Some((Content::Text(media_type), true));
        self
    }

    /// Takes the query parameter `name`, a `T`.
    pub fn query<T: JsonSchema>(
        self,
        name: &'static str,
        required: bool,
        description: &'static str,
    ) -> Self {
        self.parameter::<T>("query", name, required, description)
    }

    /// Takes the header `name` (a string).
    pub fn header(self, name: &'static str, required: bool, description: &'static str) -> Self {
        self.header_of::<String>(name, required, description)
    }

    /// Takes the header `name`, a `T` (say an enumeration of the values it takes).
    pub fn header_of<T: JsonSchema>(
        self,
        name: &'static str,
        required: bool,
        description: &'static str,
    ) -> Self {
        self.parameter::<T>("header", name, required, description)
    }

    fn parameter<T: JsonSchema>(
        mut self,
        location: &'static str,
        name: &'static str,
        required: bool,
        description: &'static str,
    ) -> Self {
        self.parameters.push(Parameter {
            name,
            location,
            required,
            description,
            schema: schema_of::<T>,
        });
        self
    }

    /// Answers `status` with a JSON `T`.
    pub fn answers<T: JsonSchema>(mut self, status: u16, description: &'static str) -> Self {
        self.answers.push(Answer {
            status,
            description,
            content: Content::Json(schema_of::<T>),
        });
        self
    }

    /// Answers `status` with a body of `media_type` (HTML, plain text).
    pub fn answers_text(
        mut self,
        status: u16,
        media_type: &'static str,
        description: &'static str,
    ) -> Self {
        self.answers.push(Answer {
            status,
            description,
            content: Content::Text(media_type),
        });
        self
    }

    /// Answers `status` with no body.
    pub fn answers_empty(mut self, status: u16, description: &'static str) -> Self {
        self.answers.push(Answer {
            status,
            description,
            content: Content::Empty,
        });
        self
    }

    /// Answers each of `statuses` with an [`ErrorBody`].
    pub fn errors(mut self, statuses: &[u16]) -> Self {
        for &status in statuses {
            if self.answers.iter().any(|a| a.status == status) {
                continue;
            }
            self.answers.push(Answer {
                status,
                description: error_description(status),
                content: Content::Json(schema_of::<ErrorBody>),
            });
        }
        self
    }

    /// The statuses this operation answers.
    pub fn statuses(&self) -> Vec<u16> {
        self.answers.iter().map(|a| a.status).collect()
    }

    /// Writes this description into `operation` (an OpenAPI Operation Object),
    /// beside the path parameters already there.
    pub(super) fn write(&self, operation: &mut Map<String, Value>, schemas: &mut Schemas) {
        operation.insert("summary".into(), json!(self.summary));
        let mut parameters: Vec<Value> = operation
            .get("parameters")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        for p in &self.parameters {
            parameters.push(json!({
                "name": p.name, "in": p.location, "required": p.required,
                "description": p.description,
                "schema": schemas.request(p.schema),
            }));
        }
        if !parameters.is_empty() {
            operation.insert("parameters".into(), Value::Array(parameters));
        }
        if let Some((content, required)) = &self.body {
            let (media_type, schema) = match content {
                Content::Json(of) => ("application/json", schemas.request(*of)),
                Content::Form(of) => ("application/x-www-form-urlencoded", schemas.request(*of)),
                Content::Text(media_type) => (*media_type, json!({ "type": "string" })),
                Content::Empty => ("application/octet-stream", json!({})),
            };
            operation.insert(
                "requestBody".into(),
                json!({ "required": required, "content": { media_type: { "schema": schema } } }),
            );
        }
        let mut responses = Map::new();
        let mut answers = self.answers.clone();
        answers.sort_by_key(|a| a.status);
        for answer in answers {
            let mut response = Map::new();
            response.insert("description".into(), json!(answer.description));
            match answer.content {
                Content::Json(of) | Content::Form(of) => {
                    let schema = schemas.response(of);
                    response.insert(
                        "content".into(),
                        json!({ "application/json": { "schema": schema } }),
                    );
                }
                Content::Text(media_type) => {
                    response.insert(
                        "content".into(),
                        json!({ media_type: { "schema": { "type": "string" } } }),
                    );
                }
                Content::Empty => {}
            }
            responses.insert(answer.status.to_string(), Value::Object(response));
        }
        operation.insert("responses".into(), Value::Object(responses));
    }
}

/// The default description of an error status.
fn error_description(status: u16) -> &'static str {
    match status {
        400 => "the request is malformed",
        401 => "no valid credentials (the challenge is in WWW-Authenticate)",
        403 => "not allowed: missing role or scope, another site, or a refused link",
        404 => "no such resource, or none of the caller's",
        405 => "the path does not take this method (Allow names those it does)",
        409 => "conflicts with the resource's state",
        410 => "the link is used up, expired or revoked",
        413 => "the request body is too large",
        415 => "the request body is not of the type the route takes",
        422 => "a parameter or the body is not what the route takes",
        429 => "too many attempts: Retry-After says when to try again",
        503 => "storage or a key server is unreachable: retry after Retry-After",
        _ => "an error",
    }
}

/// The schemas of one document: request types read as they are deserialized,
/// response types as they are serialized (fields that are skipped when empty
/// are optional), each inlined whole.
pub(super) struct Schemas {
    requests: SchemaGenerator,
    responses: SchemaGenerator,
}

impl Schemas {
    pub(super) fn new() -> Self {
        let settings = || {
            let mut settings = SchemaSettings::draft2020_12();
            settings.inline_subschemas = true;
            settings.meta_schema = None;
            settings
        };
        Schemas {
            requests: SchemaGenerator::new(settings().for_deserialize()),
            responses: SchemaGenerator::new(settings().for_serialize()),
        }
    }

    fn request(&mut self, of: SchemaOf) -> Value {
        of(&mut self.requests).to_value()
    }

    fn response(&mut self, of: SchemaOf) -> Value {
        of(&mut self.responses).to_value()
    }
}
