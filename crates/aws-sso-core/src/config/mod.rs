//! STUB: replaced by the config helper.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("stub")]
    Stub,
}
