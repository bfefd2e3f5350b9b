//! The jwt-guard showcase: every attribute and built-in route on one Rocket server.
//!
//! `cargo run -p showcase` serves 127.0.0.1:8000 on SQLite with demo users.

pub mod api;
pub mod bench;
pub mod browser;
pub mod claims;
pub mod demo_partner;
pub mod links;
pub mod mcp;
pub mod partner;
pub mod routes;
pub mod secret;
pub mod users;

use jwt_guard::link::DevOutbox;
use jwt_guard::{Clock, JwtGuard};
use rocket::figment::Figment;
use rocket::{Build, Rocket};

/// The demo partner's public keys (`partner/jwks.json`), built into the binary so
/// it runs from any directory and names no path of the machine it was built on.
pub const DEMO_PARTNER_JWKS: &str = include_str!("../partner/jwks.json");
/// The demo partner's private key (`partner/demo-partner-key.pem`), for
/// `POST /partner/demo-token` only.
pub const DEMO_PARTNER_KEY: &str = include_str!("../partner/demo-partner-key.pem");

/// The default database: a SQLite file in the working directory.
pub const DEV_DATABASE_URL: &str = "sqlite://showcase.sqlite";

/// Rocket's configuration (Rocket.toml, `ROCKET_*`) with the showcase's defaults for
/// whatever it leaves out (see [`with_defaults`]).
pub fn figment() -> std::io::Result<Figment> {
    with_defaults(rocket::Config::figment())
}

/// Adds the showcase defaults to `figment` where it has no value:
///
/// - a SQLite database, `showcase.sqlite`;
/// - an HS256 signing secret generated on first run and kept in a file beside the
///   SQLite database (owner-only permissions) — never a built-in constant;
/// - `ip_header = false`: the showcase is not behind a proxy unless told so, so a
///   client cannot claim any address with `X-Real-IP`;
/// - cookie mode on (`jwt.cookies.enabled`), for the browser page at `/app`;
/// - its own tokens issued for the app as a whole: `jwt.audience` is the address
///   it listens on (`http://127.0.0.1:8000`), and that address is an OAuth
///   protected resource (`jwt.resource`, RFC 9728) whose metadata every challenge
///   outside `/mcp` points to;
/// - the demo partner (an authorization server co-hosted at `<address>/partner`,
///   see [`demo_partner`]) as trusted issuer `partner` (`jwt.trusted_issuers`),
///   its keys built in, so no network is needed; its tokens are for the MCP
///   endpoint `<address>/mcp`; it may sign users out from outside (OpenID
///   Connect Back-Channel Logout, and CAEP events pushed as RFC 8935 says):
///   `POST /partner/demo-logout`;
/// - `<address>/mcp` as a protected resource of its own (`jwt.resources`), with
///   the partner as its authorization server — whenever a trusted issuer's
///   audience is that URL (so a partner configured by hand keeps it only if it
///   issues tokens for it);
/// - DPoP allowed (`jwt.dpop.mode = "allowed"`, RFC 9449): a client that signs in
///   with a proof gets tokens bound to its key; proofs name the address the
///   showcase listens on (`http://127.0.0.1:8000/…`, or `http://localhost:8000/…`
///   as a browser names it) unless `jwt.dpop.public_url` says otherwise;
/// - passkeys (`jwt.passkeys`) for the page's own address: `link_base_url`'s host
///   when that is set, else `localhost` and the port — WebAuthn needs a name, not
///   an IP address, so the page for passkeys is `http://localhost:8000/app`
///   (see [`passkey_page`]).
pub fn with_defaults(mut figment: Figment) -> std::io::Result<Figment> {
    figment = with_storage_defaults(figment)?;
    if figment.find_value("jwt.passkeys").is_err() {
        if let Some(page) = passkey_page(&figment) {
            let rp_id = host_of(&page);
            figment = figment.merge((
                "jwt.passkeys",
                serde_json::json!({
                    "rp_id": rp_id,
                    "origins": [page],
                    "rp_name": "jwt-guard showcase",
                }),
            ));
        }
    }
    if figment.find_value("jwt.dpop.mode").is_err() {
        figment = figment.merge(("jwt.dpop.mode", "allowed"));
    }
    let base = base_url(&figment);
    if figment.find_value("jwt.audience").is_err() {
        figment = figment.merge(("jwt.audience", base.clone()));
        if figment.find_value("jwt.resource").is_err() {
            figment = figment.merge((
                "jwt.resource",
                serde_json::json!({ "resource": base, "resource_name": "jwt-guard showcase" }),
            ));
        }
    }
    let mcp = format!("{base}/mcp");
    if figment.find_value("jwt.trusted_issuers").is_err() {
        figment = figment.merge((
            "jwt.trusted_issuers",
            serde_json::json!([{
                "name": "partner",
                "issuer": demo_partner::issuer_at(&base),
                "audience": mcp,
                "jwks": DEMO_PARTNER_JWKS,
                // Revocation from outside: the partner's logouts and events
                // (`POST /partner/demo-logout` sends both).
                "backchannel_logout": { "client_id": DEMO_LOGOUT_CLIENT },
                "ssf": { "audience": base, "push_token": DEMO_SSF_PUSH_TOKEN },
            }]),
        ));
    }
    let issuers: Vec<serde_json::Value> = figment
        .extract_inner("jwt.trusted_issuers")
        .unwrap_or_default();
    let for_mcp = issuers.iter().any(|i| i["audience"] == mcp.as_str());
    if for_mcp && figment.find_value("jwt.resources").is_err() {
        figment = figment.merge((
            "jwt.resources",
            serde_json::json!([{ "resource": mcp, "resource_name": "jwt-guard showcase MCP" }]),
        ));
    }
    if figment.find_value("jwt.introspection_clients").is_err() {
        // The demo resource server `demo-rs` (secret `demo-rs-secret`), kept as the
        // secret's SHA-256 only, as a real configuration would.
        figment = figment.merge((
            "jwt.introspection_clients",
            serde_json::json!([{
                "client_id": DEMO_INTROSPECTION_CLIENT,
                "secret_sha256": DEMO_INTROSPECTION_SECRET_SHA256,
            }]),
        ));
    }
    Ok(figment)
}

/// The showcase's client id at the demo partner: the `aud` of its logout tokens.
pub const DEMO_LOGOUT_CLIENT: &str = "showcase";
/// The credential the demo partner pushes security events with (RFC 8935).
pub const DEMO_SSF_PUSH_TOKEN: &str = "demo-partner-ssf-push-credential";

/// The demo introspection client's id (`POST /oauth/introspect`, HTTP Basic).
pub const DEMO_INTROSPECTION_CLIENT: &str = "demo-rs";
/// SHA-256 of the demo client's secret, `demo-rs-secret`.
pub const DEMO_INTROSPECTION_SECRET_SHA256: &str =
    "ebe94a34c2bb6e35f2c0518dc811235a228a3b99fb36de97f082f05a7efd6aa2";

/// `http://<address>:<port>` of the figment's Rocket configuration (a wildcard
/// address is named as the loopback one).
pub fn base_url(figment: &Figment) -> String {
    let address: std::net::IpAddr = figment
        .extract_inner("address")
        .unwrap_or(std::net::IpAddr::from([127, 0, 0, 1]));
    let port: u16 = figment.extract_inner("port").unwrap_or(8000);
    origin(address, port)
}

/// Where the showcase's page can use passkeys: `link_base_url` when it is set
/// and names a host (`https://…`, or `http://localhost…`), else
/// `http://localhost:<port>` when the showcase listens on loopback (or on every
/// address). `None` for an address WebAuthn refuses (an IP on a network).
pub fn passkey_page(figment: &Figment) -> Option<String> {
    if let Ok(base) = figment.extract_inner::<String>("jwt.link_base_url") {
        let base = base.trim_end_matches('/').to_owned();
        let host = host_of(&base);
        let named = host.parse::<std::net::IpAddr>().is_err() && !host.starts_with('[');
        let secure = base.starts_with("https://") || host == "localhost";
        return (named && secure && !host.is_empty()).then_some(base);
    }
    let address: std::net::IpAddr = figment
        .extract_inner("address")
        .unwrap_or(std::net::IpAddr::from([127, 0, 0, 1]));
    let port: u16 = figment.extract_inner("port").unwrap_or(8000);
    (address.is_loopback() || address.is_unspecified()).then(|| format!("http://localhost:{port}"))
}

/// The host of an origin `scheme://host[:port]`.
fn host_of(origin: &str) -> String {
    let rest = origin.split_once("://").map_or(origin, |(_, rest)| rest);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or(rest);
    match authority.strip_prefix('[') {
        // An IPv6 literal keeps its brackets (it is no name).
        Some(v6) => format!("[{}", v6.split(']').next().unwrap_or(v6)),
        None => authority.split(':').next().unwrap_or(authority).to_owned(),
    }
}

/// `http://<address>:<port>`, a wildcard address named as the loopback one.
pub fn origin(address: std::net::IpAddr, port: u16) -> String {
    let host = match address {
        ip if ip.is_unspecified() => "127.0.0.1".to_owned(),
        std::net::IpAddr::V6(ip) => format!("[{ip}]"),
        ip => ip.to_string(),
    };
    format!("http://{host}:{port}")
}

/// The database, address, secret and cookie defaults of [`with_defaults`].
fn with_storage_defaults(mut figment: Figment) -> std::io::Result<Figment> {
    if figment.find_value("databases.jwt_guard.url").is_err() {
        figment = figment.merge(("databases.jwt_guard.url", DEV_DATABASE_URL));
    }
    // Rocket's own default trusts `X-Real-IP`; only a value someone set counts.
    let ip_header_set = figment
        .find_metadata("ip_header")
        .is_some_and(|m| m.name != "rocket::Config::default()");
    if !ip_header_set {
        figment = figment.merge(("ip_header", false));
    }
    // Key by key: a partial `jwt` table (`ROCKET_JWT='{access_ttl="1m"}'`) keeps
    // every default it does not name, the development secret included — unless it
    // names a key of its own or an asymmetric algorithm.
    let hmac = figment
        .extract_inner::<String>("jwt.algorithm")
        .map_or(true, |alg| alg.to_ascii_uppercase().starts_with("HS"));
    let keyed =
        figment.find_value("jwt.secret").is_ok() || figment.find_value("jwt.private_key").is_ok();
    if hmac && !keyed {
        let url: String = figment
            .extract_inner("databases.jwt_guard.url")
            .unwrap_or_else(|_| DEV_DATABASE_URL.to_owned());
        // The secret lives beside the database: a URL that cannot be a database
        // is said as such, not as a secret file that cannot be written.
        if let Some(problem) = jwt_guard::store::DatabaseProblem::before_connecting(&url) {
            return Err(std::io::Error::other(problem.to_string()));
        }
        let path = secret::secret_path_for(&url);
        let secret = secret::load_or_create(&path).map_err(|e| {
            let why = format!("cannot prepare the signing secret {}: {e}", path.display());
            std::io::Error::new(e.kind(), why)
        })?;
        eprintln!(
            "showcase: signing with the secret in {} (set `jwt.secret` or `jwt.private_key` to use your own)",
            path.display()
        );
        figment = figment.merge(("jwt.secret", secret));
    }
    if figment.find_value("jwt.cookies").is_err() {
        figment = figment.merge(("jwt.cookies.enabled", true));
    }
    Ok(figment)
}

/// The file, in the working directory, that tells the `jwt-guard` command run
/// there which database and secret this showcase uses.
pub const DEPLOYMENT_FILE: &str = "JwtGuard.toml";

/// Writes [`DEPLOYMENT_FILE`] once, when it is missing: the `jwt-guard` command
/// reads it (after `Rocket.toml` and `ROCKET_*`), so it works in this directory
/// with no flags. It holds what the showcase chose or was told — the database URL,
/// the generated secret's file, the audience its tokens carry — and never a
/// password: a URL with one stays where it was set (`ROCKET_DATABASES`,
/// `Rocket.toml`), which the command reads too. Owner-only (0600). Returns whether
/// it was written.
pub fn write_deployment_file(figment: &Figment, dir: &std::path::Path) -> std::io::Result<bool> {
    let file = dir.join(DEPLOYMENT_FILE);
    if file.exists() {
        return Ok(false);
    }
    let url: String = figment
        .extract_inner("databases.jwt_guard.url")
        .unwrap_or_else(|_| DEV_DATABASE_URL.to_owned());
    let mut text = String::from(
        "# Written by the showcase on its first run: where its database and signing key\n\
         # are, so that the `jwt-guard` command run in this directory works on this\n\
         # deployment. It reads Rocket.toml and ROCKET_* too; those win over this file.\n",
    );
    if has_password(&url) {
        text.push_str(
            "# The database URL holds a password, so it is not copied here: export the\n\
             # same ROCKET_DATABASES (or keep it in Rocket.toml) where you run the command.\n",
        );
    } else {
        text.push_str(&format!("[default.databases.jwt_guard]\nurl = {url:?}\n"));
    }
    text.push_str("\n[default.jwt]\n");
    // Only the secret the showcase generated (and uses now) is named: a key of the
    // operator's own is read from where they set it.
    let secret = secret::secret_path_for(&url);
    let generated = std::fs::read_to_string(&secret).ok();
    let in_use: Option<String> = figment.extract_inner("jwt.secret").ok();
    if generated.is_some() && generated == in_use {
        text.push_str(&format!(
            "secret_file = {:?}\n",
            secret.display().to_string()
        ));
    }
    // The audience its tokens carry, so that tokens the command mints pass here.
    if let Ok(audience) = figment.extract_inner::<String>("jwt.audience") {
        text.push_str(&format!("audience = {audience:?}\n"));
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    use std::io::Write as _;
    match options.open(&file) {
        Ok(mut out) => out.write_all(text.as_bytes()).map(|()| true),
        // Another instance wrote it first.
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(false),
        Err(e) => Err(e),
    }
}

/// Whether a database URL carries a password (`scheme://user:password@host`).
fn has_password(url: &str) -> bool {
    url.split_once("://")
        .map(|(_, rest)| rest.split('/').next().unwrap_or(rest))
        .and_then(|authority| authority.rsplit_once('@'))
        .is_some_and(|(userinfo, _)| userinfo.contains(':'))
}

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
  REFRESH=$(login alice | field refresh)
  PAIR=$(curl -s {BASE}/auth/token/refresh -H 'Content-Type: application/json' \
      -d "{\"refresh\":\"$REFRESH\"}")                  # a new access token and a new refresh token
  curl -i {BASE}/auth/token/refresh -H 'Content-Type: application/json' -d "{\"refresh\":\"$REFRESH\"}"
      # 401: reuse — that whole device is signed out, the new pair too
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

  # An MCP client finds out how to get a token (RFC 9728), then uses one
  curl -i -X POST {BASE}/mcp                                       # 401, WWW-Authenticate: … resource_metadata="…"
  curl -s {BASE}/.well-known/oauth-protected-resource/mcp          # resource, authorization_servers, scopes
  MCP=$(curl -s -X POST {BASE}/partner/demo-token -H 'Content-Type: application/json' \
      -d '{"sub":"agent","scope":"mcp:tools"}' | field access)
  curl -i -X POST {BASE}/mcp -H "Authorization: Bearer $MCP" -H 'Content-Type: application/json' \
      -d '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"whoami"}}'   # 200: the tool says "sub":"agent"
  curl -i -X POST {BASE}/mcp -H "Authorization: Bearer $MCP" -H 'Content-Type: application/json' \
      -d '{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"orders.list"}}'
      # 403 insufficient_scope, scope="mcp:tools orders:read": this tool needs more
  curl -i -X POST {BASE}/mcp -H "Authorization: Bearer $PARTNER"   # 403 insufficient_scope, scope="mcp:tools"
  # The partner signs pat out (OpenID Connect Back-Channel Logout, a CAEP event)
  PSESSION=$(curl -s -X POST {BASE}/partner/login -H "Authorization: Bearer $PARTNER" | field access)
  curl -s -X POST {BASE}/partner/demo-logout -H 'Content-Type: application/json' -d '{"sub":"pat"}'
      # both delivered: {"backchannel_logout":200,"security_event":202}
  curl -i {BASE}/me -H "Authorization: Bearer $PSESSION"          # 401: the partner login ended from outside
  curl -i {BASE}/partner/me -H "Authorization: Bearer $PARTNER"   # 401: the partner's own token of pat too
  # An agent does all of this itself: the official MCP SDKs, with the demo partner's
  # client mcp-demo / mcp-demo-secret (client_credentials at {BASE}/partner/token).
  # Step-up (RFC 9470): changing the password needs a login of the last 5 minutes
  FRESH=$(login alice | field access)
  curl -i -X POST {BASE}/account/password -H "Authorization: Bearer $FRESH"   # 204
  # Services ask about tokens (RFC 7662); clients end theirs (RFC 7009)
  curl -s -u demo-rs:demo-rs-secret -d "token=$FRESH" {BASE}/oauth/introspect   # {"active":true,…}
  curl -i -d "token=$FRESH" {BASE}/oauth/introspect                              # 401 without credentials
  curl -i -d "token=$FRESH" {BASE}/oauth/revoke                                  # 200
  curl -s -u demo-rs:demo-rs-secret -d "token=$FRESH" {BASE}/oauth/introspect   # {"active":false}
  # What operators see: Prometheus metrics, and how every route is protected
  curl -i {BASE}/metrics                                                # 401 without the scrape token
  curl -s {BASE}/metrics -H 'Authorization: Bearer showcase-metrics' | grep jwt_guard_logins_total
      # the logins counted, by method and result
  curl -s {BASE}/openapi.json                                           # OpenAPI 3.1, security per route

  # Logging out
  curl -i -X POST {BASE}/auth/logout -H "Authorization: Bearer $TOKEN"   # 204: this device is signed out
  curl -i {BASE}/me -H "Authorization: Bearer $TOKEN"            # 401 at once
  curl -i -X POST {BASE}/auth/logout-all -H "Authorization: Bearer $ADMIN"   # 200 {"revoked":1}: every device of admin

In a browser: {BASE}/app (cookie mode: the refresh token is an HttpOnly cookie).
Passkeys: {PASSKEY_PAGE}/app — sign in, "Add a passkey", log out, "Sign in with a passkey";
"Open the vault" needs one (acr phr), and steps a password session up with it.

Users: alice, bob (role user), admin (role admin); passwords <name>-password.
"#;

/// The walkthrough for a showcase listening at `base` (`http://127.0.0.1:8000`):
/// shell commands, each with the answer it gets in a comment.
pub fn walkthrough(base: &str) -> String {
    // WebAuthn needs a name: the loopback address's is `localhost`.
    let page = base
        .replacen("http://127.0.0.1:", "http://localhost:", 1)
        .replacen("http://[::1]:", "http://localhost:", 1);
    WALKTHROUGH
        .replace("{PASSKEY_PAGE}", &page)
        .replace("{BASE}", base)
}

/// The token a Prometheus scraper sends to the showcase's `GET /metrics`
/// (`Authorization: Bearer showcase-metrics`) unless `metrics_token` is set.
pub const DEMO_METRICS_TOKEN: &str = "showcase-metrics";

/// The showcase app on `figment`, reading time from `clock`.
pub fn app(figment: Figment, clock: Clock) -> Rocket<Build> {
    let outbox = DevOutbox::new();
    let token: String = figment
        .extract_inner("metrics_token")
        .unwrap_or_else(|_| DEMO_METRICS_TOKEN.to_owned());
    let rocket = match jwt_guard::prometheus::PrometheusMetrics::install(&token) {
        Ok(metrics) => rocket::custom(figment)
            .manage(metrics)
            .mount("/", jwt_guard::prometheus::prometheus_routes()),
        Err(e) => {
            eprintln!("showcase: no /metrics: {e}");
            rocket::custom(figment)
        }
    };
    rocket
        .attach(
            // Deny by default: a route without a jwt-guard attribute stops launch.
            JwtGuard::fairing()
                .require_protection()
                .clock(clock)
                .authenticator(users::DemoUsers::new())
                .link_mailer(outbox.clone())
                .revocation_endpoint()
                .introspection_endpoint(),
        )
        .attach(users::seed())
        .attach(bench::stage())
        .manage(outbox)
        .manage(routes::Visits::default())
        .mount("/", routes::routes())
        .mount("/", links::routes())
        .mount("/", partner::routes())
        .mount("/", demo_partner::routes())
        .mount("/", mcp::routes())
        .mount("/", browser::routes())
        // Every error as JSON, Rocket's own included (no route, a bad body).
        .register("/", jwt_guard::catchers())
}

/// The showcase app with its default configuration.
pub fn rocket() -> std::io::Result<Rocket<Build>> {
    Ok(app(figment()?, Clock::system()))
}
