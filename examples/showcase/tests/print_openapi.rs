//! The showcase binary answers `--print-openapi` with its document on stdout and
//! nothing else — what `jwt-guard openapi --app` reads — and serves nothing.

#[test]
fn the_binary_prints_its_openapi_document() {
    let dir = std::env::temp_dir().join(format!("showcase-openapi-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_showcase"))
        .arg(jwt_guard::openapi::PRINT_FLAG)
        .current_dir(&dir)
        .env_remove("ROCKET_PORT")
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&out.stdout)));
    assert_eq!(doc["openapi"], "3.1.0");
    // Routes the app mounts and routes jwt-guard's fairing mounts at ignition.
    for path in [
        "/me",
        "/mcp",
        "/auth/token",
        "/auth/devices/{id}",
        "/oauth/introspect",
    ] {
        assert!(doc["paths"][path].is_object(), "{path} missing");
    }
    let _ = std::fs::remove_dir_all(&dir);
}
