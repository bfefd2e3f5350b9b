use jwt_guard::{permanent_refresh, DeviceSession};
use rocket::post;

#[permanent_refresh]
#[post("/devices/<id>/refresh")]
fn refresh(id: &str, device: DeviceSession) -> String {
    format!("{id} {}", device.device_id())
}

fn main() {}
