//! Output: readable tables for people, JSON (`--json`) for scripts.

use serde::Serialize;
use serde_json::Value;

/// Prints `value` as JSON, or as a table of `columns` (JSON field names) when
/// `value` is an array of objects, or field by field when it is one object.
pub(crate) fn print<T: Serialize>(json: bool, value: &T, columns: &[&str]) {
    let value = serde_json::to_value(value).unwrap_or(Value::Null);
    if json {
        out!("{value}");
        return;
    }
    match &value {
        Value::Array(rows) => print_table(rows, columns),
        Value::Object(fields) => {
            let width = fields.keys().map(String::len).max().unwrap_or(0);
            for (name, field) in fields {
                out!("{name:width$}  {}", cell(field));
            }
        }
        other => out!("{}", cell(other)),
    }
}

fn cell(value: &Value) -> String {
    match value {
        Value::Null => "-".to_owned(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// A cell of column `name`: times (`…_at`, `at`, `last_used`) as RFC 3339.
fn column_cell(name: &str, value: &Value) -> String {
    let is_time = name == "at" || name == "last_used" || name.ends_with("_at");
    match value.as_u64() {
        Some(secs) if is_time => humantime::format_rfc3339_seconds(
            std::time::UNIX_EPOCH + std::time::Duration::from_secs(secs),
        )
        .to_string(),
        _ => cell(value),
    }
}

fn print_table(rows: &[Value], columns: &[&str]) {
    if rows.is_empty() {
        out!("(none)");
        return;
    }
    let cells: Vec<Vec<String>> = rows
        .iter()
        .map(|row| columns.iter().map(|c| column_cell(c, &row[*c])).collect())
        .collect();
    let widths: Vec<usize> = columns
        .iter()
        .enumerate()
        .map(|(i, c)| {
            cells
                .iter()
                .map(|r| r[i].chars().count())
                .chain(std::iter::once(c.len()))
                .max()
                .unwrap_or(0)
        })
        .collect();
    let line = |values: Vec<String>| {
        let padded: Vec<String> = values
            .iter()
            .zip(&widths)
            .map(|(v, w)| format!("{v:w$}"))
            .collect();
        out!("{}", padded.join("  ").trim_end());
    };
    line(columns.iter().map(|c| c.to_uppercase()).collect());
    for row in cells {
        line(row);
    }
}

/// One line on stdout. A closed pipe ends the process at once with success: the
/// reader has what it wanted. Any other write failure is said, exit code 1.
pub(crate) fn line(text: std::fmt::Arguments<'_>) {
    use std::io::Write as _;
    let mut stdout = std::io::stdout().lock();
    let written = stdout
        .write_fmt(text)
        .and_then(|()| stdout.write_all(b"\n"))
        .and_then(|()| stdout.flush());
    match written {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => std::process::exit(0),
        Err(e) => {
            eprintln!("jwt-guard: error: cannot write the output: {e}");
            std::process::exit(1);
        }
    }
}
