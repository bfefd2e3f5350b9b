use jwt_guard::use_jwt;

#[use_jwt]
struct NotAHandler;

fn main() {}
