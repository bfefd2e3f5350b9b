//! The smallest complete jwt-guard app: the root README's "In your own app",
//! compiled from the README's own text (`build.rs` copies the block out of it),
//! so the two cannot drift. Run it from `examples/minimal`, where its `Rocket.toml`
//! is: `cd examples/minimal && cargo run`.

include!(concat!(env!("OUT_DIR"), "/readme_app.rs"));
