//! A statement with its arguments written in as PostgreSQL literals, for the
//! simple query protocol behind a transaction-mode pooler.
//!
//! Behind such a pooler every message exchange may land on another server
//! connection, so a statement must be one exchange. The extended protocol
//! needs two for sqlx (it parses, then binds); the simple protocol is one
//! `Query` message — but it takes no parameters. So the arguments are written
//! into the text as literals, each explicitly typed as the extended protocol
//! would have typed the parameter: this is how psycopg2 (Django's PostgreSQL
//! driver) sends every query, and what psycopg 3 recommends behind PgBouncer in
//! transaction mode (its client-side-binding cursor).
//!
//! Literals are written so that no server setting changes their meaning: text
//! as an escape string `E'…'` (backslashes and quotes doubled — an escape
//! string reads the same whatever `standard_conforming_strings` says), bytes
//! as hex through `decode(…, 'hex')`, numbers as quoted strings in Rust's own
//! spelling (so the most negative `int8` reads back too), each in parentheses
//! with its type. A NUL character, which no PostgreSQL text may
//! hold, is refused. Placeholders (`$1`…) are replaced only outside quoted
//! strings, quoted identifiers, comments and dollar-quoted strings.

use std::fmt::Write as _;

use sqlx::any::{AnyArguments, AnyTypeInfoKind};
use sqlx_core::any::AnyValueKind;

/// Why a statement cannot be written with its arguments in it.
#[derive(Debug, thiserror::Error)]
pub(crate) enum LiteralError {
    /// A text argument holds a NUL character (PostgreSQL text cannot).
    #[error("a text argument holds a NUL character")]
    Nul,
    /// `$n` names no argument.
    #[error("the statement names argument ${0}, which it was not given")]
    Missing(usize),
}

/// `sql` with each `$n` replaced by argument `n` as a typed literal.
pub(crate) fn inline(sql: &str, arguments: &AnyArguments<'_>) -> Result<String, LiteralError> {
    let values = &arguments.values.0;
    let bytes = sql.as_bytes();
    let mut out = String::with_capacity(sql.len() + 16 * values.len());
    let mut i = 0;
    // Copies `sql[from..to]` (whole UTF-8 characters: every split is at ASCII).
    let copy = |out: &mut String, from: usize, to: usize| out.push_str(&sql[from..to]);
    while i < bytes.len() {
        match bytes[i] {
            b'\'' => {
                // An escape string (`E'…'`) takes backslash escapes.
                let escapes = i > 0 && matches!(bytes[i - 1], b'E' | b'e');
                let end = quoted_end(bytes, i, b'\'', escapes);
                copy(&mut out, i, end);
                i = end;
            }
            b'"' => {
                let end = quoted_end(bytes, i, b'"', false);
                copy(&mut out, i, end);
                i = end;
            }
            b'-' if bytes.get(i + 1) == Some(&b'-') => {
                let end = bytes[i..]
                    .iter()
                    .position(|&b| b == b'\n')
                    .map_or(bytes.len(), |p| i + p + 1);
                copy(&mut out, i, end);
                i = end;
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => {
                let end = find(bytes, i + 2, b"*/").map_or(bytes.len(), |p| p + 2);
                copy(&mut out, i, end);
                i = end;
            }
            b'$' if bytes.get(i + 1).is_some_and(u8::is_ascii_digit) => {
                let digits = bytes[i + 1..]
                    .iter()
                    .take_while(|b| b.is_ascii_digit())
                    .count();
                let n: usize = sql[i + 1..i + 1 + digits].parse().unwrap_or(0);
                let value = n
                    .checked_sub(1)
                    .and_then(|k| values.get(k))
                    .ok_or(LiteralError::Missing(n))?;
                write_literal(&mut out, value)?;
                i += 1 + digits;
            }
            b'$' => {
                // A dollar-quoted string: `$tag$ … $tag$` (the tag may be empty).
                let tag_len = bytes[i + 1..]
                    .iter()
                    .take_while(|b| b.is_ascii_alphanumeric() || **b == b'_')
                    .count();
                let tag_end = i + 1 + tag_len;
                if bytes.get(tag_end) == Some(&b'$') {
                    let tag = &bytes[i..=tag_end];
                    let end = find(bytes, tag_end + 1, tag).map_or(bytes.len(), |p| p + tag.len());
                    copy(&mut out, i, end);
                    i = end;
                } else {
                    out.push('$');
                    i += 1;
                }
            }
            _ => {
                // Up to the next byte that may start something of the above.
                let next = bytes[i + 1..]
                    .iter()
                    .position(|b| matches!(b, b'\'' | b'"' | b'-' | b'/' | b'$'))
                    .map_or(bytes.len(), |p| i + 1 + p);
                copy(&mut out, i, next);
                i = next;
            }
        }
    }
    Ok(out)
}

/// Where the quoted run starting at `start` (its opening `quote`) ends: past
/// its closing quote (a doubled quote stays inside; with `escapes`, so does a
/// backslash-escaped character), or at the end.
fn quoted_end(bytes: &[u8], start: usize, quote: u8, escapes: bool) -> usize {
    let mut i = start + 1;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' if escapes => i += 2,
            b if b == quote => {
                if bytes.get(i + 1) == Some(&quote) {
                    i += 2;
                } else {
                    return i + 1;
                }
            }
            _ => i += 1,
        }
    }
    bytes.len()
}

/// The first place at or after `from` where `needle` starts.
fn find(bytes: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    if from > bytes.len() {
        return None;
    }
    bytes[from..]
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|p| from + p)
}

/// The PostgreSQL type a parameter of this kind is bound as.
fn type_name(kind: AnyTypeInfoKind) -> Option<&'static str> {
    Some(match kind {
        AnyTypeInfoKind::Null => return None,
        AnyTypeInfoKind::Bool => "bool",
        AnyTypeInfoKind::SmallInt => "int2",
        AnyTypeInfoKind::Integer => "int4",
        AnyTypeInfoKind::BigInt => "int8",
        AnyTypeInfoKind::Real => "float4",
        AnyTypeInfoKind::Double => "float8",
        AnyTypeInfoKind::Text => "text",
        AnyTypeInfoKind::Blob => "bytea",
    })
}

fn float(out: &mut String, value: f64, type_name: &str) {
    if value.is_nan() {
        let _ = write!(out, "('NaN'::{type_name})");
    } else if value.is_infinite() {
        let sign = if value < 0.0 { "-" } else { "" };
        let _ = write!(out, "('{sign}Infinity'::{type_name})");
    } else {
        let _ = write!(out, "('{value:?}'::{type_name})");
    }
}

fn write_literal(out: &mut String, value: &AnyValueKind<'_>) -> Result<(), LiteralError> {
    match value {
        AnyValueKind::Null(kind) => match type_name(*kind) {
            Some(t) => {
                let _ = write!(out, "(NULL::{t})");
            }
            None => out.push_str("NULL"),
        },
        AnyValueKind::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        AnyValueKind::SmallInt(n) => {
            let _ = write!(out, "('{n}'::int2)");
        }
        AnyValueKind::Integer(n) => {
            let _ = write!(out, "('{n}'::int4)");
        }
        AnyValueKind::BigInt(n) => {
            let _ = write!(out, "('{n}'::int8)");
        }
        AnyValueKind::Real(v) => float(out, f64::from(*v), "float4"),
        AnyValueKind::Double(v) => float(out, *v, "float8"),
        AnyValueKind::Text(text) => {
            if text.contains('\0') {
                return Err(LiteralError::Nul);
            }
            out.push_str("(E'");
            for c in text.chars() {
                match c {
                    '\\' => out.push_str("\\\\"),
                    '\'' => out.push_str("''"),
                    c => out.push(c),
                }
            }
            out.push_str("'::text)");
        }
        AnyValueKind::Blob(bytes) => {
            out.push_str("decode('");
            for b in bytes.iter() {
                let _ = write!(out, "{b:02x}");
            }
            out.push_str("', 'hex')");
        }
        // `AnyValueKind` is non-exhaustive: a kind this version does not know is
        // refused rather than guessed at.
        #[allow(unreachable_patterns)]
        _ => return Err(LiteralError::Missing(0)),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use sqlx::Arguments as _;

    fn args(values: Vec<AnyValueKind<'static>>) -> AnyArguments<'static> {
        let mut a = AnyArguments::default();
        a.values.0 = values;
        let _ = a.len();
        a
    }

    #[test]
    fn placeholders_become_typed_literals_outside_quotes_and_comments() {
        let a = args(vec![
            AnyValueKind::Text("it's \\ a \"test\" $2".into()),
            AnyValueKind::BigInt(-42),
            AnyValueKind::Null(AnyTypeInfoKind::Text),
            AnyValueKind::Bool(true),
            AnyValueKind::Blob(vec![0u8, 255].into()),
        ]);
        let sql = "SELECT $1, '$1 ''$2''', \"$2\", $2::BIGINT -- $3\n, $3 /* $4 */, $4, $5, $$ $1 $$, $tag$ $2 $tag$, $10";
        let err = inline(sql, &a).err();
        assert!(matches!(err, Some(LiteralError::Missing(10))), "{err:?}");
        let sql = &sql[..sql.len() - 5];
        let done = inline(sql, &a).unwrap_or_default();
        assert_eq!(
            done,
            "SELECT (E'it''s \\\\ a \"test\" $2'::text), '$1 ''$2''', \"$2\", ('-42'::int8)::BIGINT -- $3\n, \
             (NULL::text) /* $4 */, true, decode('00ff', 'hex'), $$ $1 $$, $tag$ $2 $tag$"
        );
    }

    #[test]
    fn nul_is_refused_and_numbers_keep_their_type() {
        let a = args(vec![AnyValueKind::Text("a\0b".into())]);
        assert!(matches!(inline("SELECT $1", &a), Err(LiteralError::Nul)));
        let a = args(vec![
            AnyValueKind::Integer(7),
            AnyValueKind::Double(f64::NAN),
            AnyValueKind::Double(1.5e300),
        ]);
        assert_eq!(
            inline("$1 $2 $3", &a).unwrap_or_default(),
            "('7'::int4) ('NaN'::float8) ('1.5e300'::float8)"
        );
    }
}
