//! The documentation holds together: every relative link and anchor in the
//! README, `docs/` and the crate READMEs resolves, and every page of `docs/` is
//! reachable from the README. (Rust blocks are compiled as doctests through
//! `jwt_guard_tests::docs`; shell blocks carry their markers, checked by
//! `jwt-guard-cli/tests/readme.rs`.)

use std::collections::{BTreeSet, HashMap};
use std::path::{Component, Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Every Markdown file of the documentation, relative to the root.
fn pages() -> Vec<PathBuf> {
    let mut pages: Vec<PathBuf> = [
        "README.md",
        "CHANGELOG.md",
        "jwt-guard/README.md",
        "jwt-guard-cli/README.md",
        "jwt-guard-macros/README.md",
    ]
    .iter()
    .map(PathBuf::from)
    .collect();
    let mut stack = vec![PathBuf::from("docs")];
    while let Some(dir) = stack.pop() {
        let entries = std::fs::read_dir(root().join(&dir)).unwrap_or_else(|e| panic!("{e}"));
        for entry in entries.flatten() {
            let path = dir.join(entry.file_name());
            if entry.path().is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "md") {
                pages.push(path);
            }
        }
    }
    pages.sort();
    pages
}

/// GitHub's anchor for a heading: lower case, punctuation dropped (but `-` and
/// `_`), spaces as `-`; a repeated heading gets `-1`, `-2`, ….
fn anchors(text: &str) -> BTreeSet<String> {
    let mut seen: HashMap<String, usize> = HashMap::new();
    let mut found = BTreeSet::new();
    for line in outside_code(text) {
        let Some(heading) = line.strip_prefix('#') else {
            continue;
        };
        let heading = heading.trim_start_matches('#');
        if !heading.starts_with(' ') {
            continue;
        }
        let slug: String = heading
            .trim()
            .to_lowercase()
            .chars()
            .filter(|c| c.is_alphanumeric() || matches!(c, ' ' | '-' | '_'))
            .map(|c| if c == ' ' { '-' } else { c })
            .collect();
        let n = seen.entry(slug.clone()).or_insert(0);
        found.insert(if *n == 0 {
            slug.clone()
        } else {
            format!("{slug}-{n}")
        });
        *n += 1;
    }
    found
}

/// The lines outside fenced code blocks.
fn outside_code(text: &str) -> Vec<&str> {
    let mut fenced = false;
    text.lines()
        .filter(|line| {
            if line.trim_start().starts_with("```") {
                fenced = !fenced;
                return false;
            }
            !fenced
        })
        .collect()
}

/// The targets of `[text](target)` links outside code (blocks and spans).
fn links(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    for line in outside_code(text) {
        // Code spans hold examples, not links.
        let mut plain = String::new();
        for (i, part) in line.split('`').enumerate() {
            if i % 2 == 0 {
                plain.push_str(part);
            }
        }
        let mut rest = plain.as_str();
        while let Some(at) = rest.find("](") {
            let after = &rest[at + 2..];
            let end = after.find(')').unwrap_or(after.len());
            let target = after[..end].split_whitespace().next().unwrap_or_default();
            found.push(target.to_owned());
            rest = &after[end..];
        }
    }
    found
}

/// `base/../x` as `x`.
fn normal(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for part in path.components() {
        match part {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

#[test]
fn every_relative_link_and_anchor_resolves() {
    let pages = pages();
    assert!(pages.len() > 10, "the docs were not found: {pages:?}");
    let mut broken = Vec::new();
    let mut checked = 0;
    for page in &pages {
        let text = std::fs::read_to_string(root().join(page)).unwrap_or_default();
        for target in links(&text) {
            if target.contains("://") || target.starts_with("mailto:") {
                continue;
            }
            let (path, anchor) = target.split_once('#').unwrap_or((&target, ""));
            let file = if path.is_empty() {
                page.clone()
            } else {
                normal(&page.parent().unwrap_or(Path::new("")).join(path))
            };
            checked += 1;
            let full = root().join(&file);
            if !full.exists() {
                broken.push(format!(
                    "{}: {target} (no {})",
                    page.display(),
                    file.display()
                ));
                continue;
            }
            if !anchor.is_empty() {
                let target_text = std::fs::read_to_string(&full).unwrap_or_default();
                if !anchors(&target_text).contains(anchor) {
                    broken.push(format!("{}: {target} (no such heading)", page.display()));
                }
            }
        }
    }
    assert!(checked > 40, "only {checked} links were found");
    assert!(broken.is_empty(), "broken links:\n{}", broken.join("\n"));
}

#[test]
fn every_page_of_the_docs_is_reachable_from_the_readme() {
    let mut reached = BTreeSet::new();
    let mut queue = vec![PathBuf::from("README.md")];
    while let Some(page) = queue.pop() {
        if !reached.insert(page.clone()) {
            continue;
        }
        let text = std::fs::read_to_string(root().join(&page)).unwrap_or_default();
        for target in links(&text) {
            let path = target.split('#').next().unwrap_or_default();
            if path.is_empty() || target.contains("://") || !path.ends_with(".md") {
                continue;
            }
            queue.push(normal(&page.parent().unwrap_or(Path::new("")).join(path)));
        }
    }
    let unreached: Vec<_> = pages()
        .into_iter()
        .filter(|p| p.starts_with("docs") && !reached.contains(p))
        .collect();
    assert!(
        unreached.is_empty(),
        "not linked from the README: {unreached:?}"
    );
}

#[test]
fn anchors_follow_githubs_rules() {
    let found = anchors(
        "# The `jwt-guard` command\n## Protected resources (RFC 9728) and MCP\n## Errors\n## Errors\n```\n# not a heading\n```\n",
    );
    let expected: BTreeSet<String> = [
        "the-jwt-guard-command",
        "protected-resources-rfc-9728-and-mcp",
        "errors",
        "errors-1",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    assert_eq!(found, expected);
    assert_eq!(
        links("see [a](x.md#b) and `[not](a link)` [c](../y.md)"),
        ["x.md#b", "../y.md"]
    );
}

#[test]
fn every_page_of_the_docs_has_its_rust_compiled() {
    let lib = std::fs::read_to_string(root().join("tests/src/lib.rs")).unwrap_or_default();
    let missing: Vec<_> = pages()
        .into_iter()
        .filter(|p| p.starts_with("docs"))
        .filter(|p| !lib.contains(&format!("include_str!(\"../../{}\")", p.display())))
        .collect();
    assert!(missing.is_empty(), "not compiled as doctests: {missing:?}");
}
