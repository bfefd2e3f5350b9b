//! Copies the root README's own-app block (the ```rust block after the line
//! `<!-- the minimal app: … -->`) into `OUT_DIR/readme_app.rs`, which
//! `src/main.rs` includes: this example is the README's text, not a copy of it.

use std::path::PathBuf;

const MARKER: &str = "<!-- the minimal app:";

fn main() {
    let readme = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../README.md");
    println!("cargo:rerun-if-changed={}", readme.display());
    let text = std::fs::read_to_string(&readme)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", readme.display()));
    let after = text
        .split_once(MARKER)
        .map(|(_, after)| after)
        .unwrap_or_else(|| panic!("the README has no `{MARKER}` block"));
    let mut lines = after.lines().skip_while(|l| !l.starts_with("```rust"));
    lines.next();
    let code: Vec<&str> = lines.take_while(|l| !l.starts_with("```")).collect();
    assert!(code.len() > 20, "the README's own-app block is empty");
    let out = PathBuf::from(std::env::var("OUT_DIR").unwrap_or_default()).join("readme_app.rs");
    std::fs::write(&out, code.join("\n") + "\n")
        .unwrap_or_else(|e| panic!("cannot write {}: {e}", out.display()));
}
