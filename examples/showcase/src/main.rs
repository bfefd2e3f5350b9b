//! Runs the showcase: `cargo run -p showcase`.

use rocket::fairing::AdHoc;

/// What to try, printed once the server listens, with its real address as `{BASE}`.
const WALKTHROUGH: &str = r#"
jwt-guard showcase at {BASE} — try it:

  login() { curl -s {BASE}/auth/token -H 'Content-Type: application/json' \
      -d "{\"username\":\"$1\",\"password\":\"$1-password\"}"; }
  field() { sed "s/.*\"$1\":\"\([^\"]*\)\".*/\1/"; }
  LOGIN=$(login alice); TOKEN=$(echo "$LOGIN" | field access)
  curl -i {BASE}/me -H "Authorization: Bearer $TOKEN"            # 200
  curl -i {BASE}/admin/stats -H "Authorization: Bearer $TOKEN"   # 403 (alice is no admin)
  curl -i {BASE}/reports -H "Authorization: Bearer $TOKEN"       # 200 (scope reports:read)
  curl -i {BASE}/me                                              # 401 with WWW-Authenticate
  curl -s {BASE}/auth/devices -H "Authorization: Bearer $TOKEN"  # this login is a device

  # Refresh (an API client: the refresh token in the body; it rotates)
  REFRESH=$(echo "$LOGIN" | field refresh)
  curl -s {BASE}/auth/token/refresh -H 'Content-Type: application/json' -d "{\"refresh\":\"$REFRESH\"}"
  curl -i {BASE}/auth/token/refresh -H 'Content-Type: application/json' -d "{\"refresh\":\"$REFRESH\"}"
      # 401: reuse — the whole device is signed out
  # Refresh as a browser does (cookies, and the Origin of this site)
  curl -s -c jar {BASE}/auth/token -H 'Content-Type: application/json' -H 'Origin: {BASE}' \
      -d '{"username":"bob","password":"bob-password"}'             # no refresh token in the body
  curl -s -b jar -c jar -X POST {BASE}/auth/token/refresh -H 'Origin: {BASE}'   # through the cookie
  # Device refresh with the permanent token
  PERM=$(login bob | field permanent_token)
  curl -s -X POST {BASE}/auth/device/refresh -H "Permanent-Token: $PERM"      # a new access token

  # Links
  curl -s -X POST {BASE}/links/unsubscribe -H "Authorization: Bearer $TOKEN"
      # → {"url": …}: open it once (200), twice (410 Gone)
  curl -i -X POST {BASE}/links/magic-login -H 'Content-Type: application/json' \
      -d '{"username":"bob"}'                                      # 202: delivered, never shown
  ADMIN=$(login admin | field access)
  curl -s {BASE}/admin/outbox -H "Authorization: Bearer $ADMIN"   # the dev outbox (admins only)
  MAGIC=$(curl -s {BASE}/admin/outbox -H "Authorization: Bearer $ADMIN" | field url)
  curl -s "$MAGIC"                       # GET: a confirmation page (scanners use nothing)
  curl -s -X POST "$MAGIC"               # POST: bob is logged in, a new device
  curl -s {BASE}/admin/routes -H "Authorization: Bearer $ADMIN"   # how every route is protected

  # A partner's users
  PARTNER=$(curl -s -X POST {BASE}/partner/demo-token -H 'Content-Type: application/json' \
      -d '{"sub":"pat"}' | field access)
  curl -i {BASE}/partner/me -H "Authorization: Bearer $PARTNER"   # 200: a token from outside
  curl -i {BASE}/partner/me -H "Authorization: Bearer $TOKEN"     # 401: ours is not the partner's
  curl -s -X POST {BASE}/partner/login -H "Authorization: Bearer $PARTNER"   # an own session

  # Logging out
  curl -s -X POST {BASE}/auth/logout -H "Authorization: Bearer $TOKEN"
  curl -i {BASE}/me -H "Authorization: Bearer $TOKEN"            # 401 at once
  curl -s -X POST {BASE}/auth/logout-all -H "Authorization: Bearer $ADMIN"   # every device of admin

In a browser: {BASE}/app (cookie mode: the refresh token is an HttpOnly cookie).

Users: alice, bob (role user), admin (role admin); passwords <name>-password.
"#;

#[rocket::main]
async fn main() -> std::process::ExitCode {
    let rocket = match showcase::rocket() {
        Ok(rocket) => rocket,
        Err(e) => {
            eprintln!("showcase: cannot prepare the signing secret: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match showcase::write_deployment_file(rocket.figment(), std::path::Path::new(".")) {
        Ok(true) => println!(
            "showcase: wrote {} for the jwt-guard command (run it in this directory)",
            showcase::DEPLOYMENT_FILE
        ),
        Ok(false) => {}
        Err(e) => eprintln!("showcase: cannot write {}: {e}", showcase::DEPLOYMENT_FILE),
    }
    let walkthrough = AdHoc::on_liftoff("walkthrough", |rocket| {
        Box::pin(async move {
            let config = rocket.config();
            let host = match config.address {
                std::net::IpAddr::V6(ip) => format!("[{ip}]"),
                ip => ip.to_string(),
            };
            let base = format!("http://{host}:{}", config.port);
            println!("{}", WALKTHROUGH.replace("{BASE}", &base));
        })
    });
    match rocket.attach(walkthrough).launch().await {
        Ok(_) => std::process::ExitCode::SUCCESS,
        // Rocket (and jwt-guard before it) has said why, once.
        Err(e) => {
            let _ = e.kind();
            std::process::ExitCode::FAILURE
        }
    }
}
