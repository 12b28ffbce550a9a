//! The committed JSON Schemas of `.aws-sso.yaml` and `config.yaml` are what the code generates:
//! editors read the committed files, so a change to either file must come with
//! `cargo xtask codegen`.

const COMMITTED: &str = include_str!("../../../schema/aws-sso.schema.json");
const COMMITTED_CONFIG: &str = include_str!("../../../schema/aws-sso-config.schema.json");

#[test]
fn the_committed_schema_is_up_to_date() {
    let generated = aws_sso_core::config::project::json_schema();
    assert!(
        generated == COMMITTED,
        "schema/aws-sso.schema.json is stale: run `cargo xtask codegen` and commit it"
    );
    assert!(
        aws_sso_core::config::settings::json_schema() == COMMITTED_CONFIG,
        "schema/aws-sso-config.schema.json is stale: run `cargo xtask codegen` and commit it"
    );
}
