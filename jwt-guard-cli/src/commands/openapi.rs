//! `jwt-guard openapi --app <binary>`: the OpenAPI 3.1 document of an app's routes,
//! read from the app binary's own route manifest (the binary is run with
//! `--print-openapi`, which ignites Rocket without serving; see
//! `jwt_guard::openapi::of_rocket`). Fails, naming them, when routes carry no
//! jwt-guard attribute.

use std::path::PathBuf;
use std::process::{Command, ExitCode};

use clap::Args;
use jwt_guard::openapi::PRINT_FLAG;
use serde_json::Value;

use crate::error::{AppProblem, CliError};

/// `jwt-guard openapi`.
#[derive(Args, Debug)]
pub(crate) struct OpenApiArgs {
    /// The application binary (it must answer `--print-openapi`).
    #[arg(long)]
    app: PathBuf,
    /// Write the document here instead of standard output.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Do not fail on routes without a jwt-guard attribute.
    #[arg(long)]
    allow_undeclared: bool,
}

impl OpenApiArgs {
    pub(crate) fn run(self) -> Result<ExitCode, CliError> {
        let app = self.app.display().to_string();
        let fail = |problem: AppProblem| CliError::App {
            app: app.clone(),
            problem,
        };
        let output = Command::new(&self.app)
            .arg(PRINT_FLAG)
            .output()
            .map_err(|e| fail(AppProblem::Run(e)))?;
        if !output.status.success() {
            let stderr = String::from_utf8_lossy(&output.stderr);
            let last = stderr.lines().last().unwrap_or("no message").to_owned();
            return Err(fail(AppProblem::Failed {
                status: output.status,
                last,
            }));
        }
        let doc: Value =
            serde_json::from_slice(&output.stdout).map_err(|e| fail(AppProblem::NotJson(e)))?;
        if !doc["openapi"].as_str().is_some_and(|v| v.starts_with("3.")) {
            return Err(fail(AppProblem::NoVersion));
        }
        let undeclared = undeclared(&doc);
        let text = format!("{doc:#}\n");
        match &self.out {
            Some(path) => std::fs::write(path, text).map_err(|e| fail(AppProblem::Write(e)))?,
            None => out!("{}", text.trim_end_matches('\n')),
        }
        if !undeclared.is_empty() && !self.allow_undeclared {
            return Err(CliError::Undeclared(
                undeclared.len(),
                undeclared.join(", "),
            ));
        }
        Ok(ExitCode::SUCCESS)
    }
}

/// `METHOD /path` of every operation the manifest could not describe.
fn undeclared(doc: &Value) -> Vec<String> {
    let mut found = Vec::new();
    if let Some(paths) = doc["paths"].as_object() {
        for (path, item) in paths {
            for (method, op) in item.as_object().into_iter().flatten() {
                if op["x-jwt-guard"]["protection"] == "undeclared" {
                    found.push(format!("{} {path}", method.to_uppercase()));
                }
            }
        }
    }
    found
}
