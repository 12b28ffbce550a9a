//! The committed JSON Schema of `.aws-sso.yaml` is what the code generates: editors read the
//! committed file, so a change to the project file must come with `cargo xtask codegen`.

const COMMITTED: &str = include_str!("../../../schema/aws-sso.schema.json");

#[test]
fn the_committed_schema_is_up_to_date() {
    let generated = aws_sso_core::config::project::json_schema();
    assert!(
        generated == COMMITTED,
        "schema/aws-sso.schema.json is stale: run `cargo xtask codegen` and commit it"
    );
}
