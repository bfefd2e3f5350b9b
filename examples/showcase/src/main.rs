//! Runs the showcase: `cargo run -p showcase`.

use rocket::fairing::AdHoc;

#[rocket::main]
async fn main() -> std::process::ExitCode {
    // Before the defaults are merged over them: a `ROCKET_JWT` that is no table
    // would otherwise be replaced by them, silently.
    if let Err(e) = jwt_guard::config::check_environment(&rocket::Config::figment()) {
        eprintln!("showcase: {e}");
        return std::process::ExitCode::FAILURE;
    }
    let figment = match showcase::figment() {
        Ok(figment) => figment,
        Err(e) => {
            eprintln!("showcase: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    // `jwt-guard openapi --app <this binary>`: the document on stdout, and no
    // server (nor Rocket's own log lines there).
    if std::env::args().any(|a| a == jwt_guard::openapi::PRINT_FLAG) {
        let figment = figment.merge(("log_level", "off"));
        let rocket = showcase::app(figment, jwt_guard::Clock::system());
        let version = env!("CARGO_PKG_VERSION");
        let described = showcase::api::described();
        let title = "jwt-guard showcase";
        return match jwt_guard::openapi::of_rocket_with(rocket, title, version, &described).await {
            Ok(doc) => {
                println!("{doc:#}");
                std::process::ExitCode::SUCCESS
            }
            Err(e) => {
                let _ = e.kind();
                std::process::ExitCode::FAILURE
            }
        };
    }
    let rocket = showcase::app(figment, jwt_guard::Clock::system());
    let walkthrough = AdHoc::on_liftoff("walkthrough", |rocket| {
        Box::pin(async move {
            // Once the database is there (opened, or created, and migrated).
            match showcase::write_deployment_file(rocket.figment(), std::path::Path::new(".")) {
                Ok(true) => println!(
                    "showcase: wrote {} for the jwt-guard command (run it in this directory)",
                    showcase::DEPLOYMENT_FILE
                ),
                Ok(false) => {}
                Err(e) => eprintln!("showcase: cannot write {}: {e}", showcase::DEPLOYMENT_FILE),
            }
            let config = rocket.config();
            let host = match config.address {
                std::net::IpAddr::V6(ip) => format!("[{ip}]"),
                ip => ip.to_string(),
            };
            let base = format!("http://{host}:{}", config.port);
            println!("{}", showcase::walkthrough(&base));
        })
    });
    match rocket.attach(walkthrough).launch().await {
        Ok(_) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("showcase: {}", launch_failure(e.kind()));
            std::process::ExitCode::FAILURE
        }
    }
}

/// Why the server did not start, with what to do where that is clear. A failing
/// fairing (jwt-guard's) has already logged its reason.
fn launch_failure(kind: &rocket::error::ErrorKind) -> String {
    use rocket::error::ErrorKind;
    match kind {
        ErrorKind::Bind(e) if e.kind() == std::io::ErrorKind::AddrInUse => format!(
            "cannot listen: {e} — another server (an earlier showcase?) holds the port; \
             stop it or choose another: ROCKET_PORT=8001"
        ),
        ErrorKind::Bind(e) => format!("cannot listen on the configured address: {e}"),
        ErrorKind::FailedFairings(failed) => {
            let names: Vec<&str> = failed.iter().map(|f| f.name).collect();
            format!(
                "launch stopped by {} (its reason is above)",
                names.join(", ")
            )
        }
        other => format!("cannot launch: {other}"),
    }
}
