//! Runs the showcase: `cargo run -p showcase`.

const WALKTHROUGH: &str = r#"
jwt-guard showcase — try it:

  TOKEN=$(curl -s localhost:8000/auth/token -H 'Content-Type: application/json' \
      -d '{"username":"alice","password":"alice-password"}' | sed 's/.*"access":"\([^"]*\)".*/\1/')
  curl -i localhost:8000/me -H "Authorization: Bearer $TOKEN"            # 200
  curl -i localhost:8000/admin/stats -H "Authorization: Bearer $TOKEN"   # 403 (alice is no admin)
  curl -i localhost:8000/reports -H "Authorization: Bearer $TOKEN"       # 200 (scope reports:read)
  curl -i localhost:8000/me                                              # 401 with WWW-Authenticate
  curl -s localhost:8000/auth/devices -H "Authorization: Bearer $TOKEN"  # this login is a device
  curl -s -X POST localhost:8000/links/unsubscribe -H "Authorization: Bearer $TOKEN"
      # → {"url": …}: open it once (200), twice (410 Gone)
  curl -i -X POST localhost:8000/links/magic-login -H 'Content-Type: application/json' \
      -d '{"username":"bob"}'                                             # 202: delivered, never shown
  ADMIN=$(curl -s localhost:8000/auth/token -H 'Content-Type: application/json' \
      -d '{"username":"admin","password":"admin-password"}' | sed 's/.*"access":"\([^"]*\)".*/\1/')
  curl -s localhost:8000/admin/outbox -H "Authorization: Bearer $ADMIN"   # the dev outbox (admins only)
  curl -s localhost:8000/admin/routes -H "Authorization: Bearer $ADMIN"   # how every route is protected
  PARTNER=$(curl -s -X POST localhost:8000/partner/demo-token -H 'Content-Type: application/json' \
      -d '{"sub":"pat"}' | sed 's/.*"access":"\([^"]*\)".*/\1/')
  curl -i localhost:8000/partner/me -H "Authorization: Bearer $PARTNER"   # 200: a token from outside
  curl -i localhost:8000/partner/me -H "Authorization: Bearer $TOKEN"     # 401: ours is not the partner's
  curl -s -X POST localhost:8000/auth/logout -H "Authorization: Bearer $TOKEN"
  curl -i localhost:8000/me -H "Authorization: Bearer $TOKEN"            # 401 at once

In a browser: http://127.0.0.1:8000/app (cookie mode: the refresh token is an HttpOnly cookie).

Users: alice, bob (role user), admin (role admin); passwords <name>-password.
"#;

#[rocket::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    println!("{WALKTHROUGH}");
    showcase::rocket()?.launch().await.map_err(Box::new)?;
    Ok(())
}
