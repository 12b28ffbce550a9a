//! STUB: replaced by the config helper.
#[derive(Debug, thiserror::Error)]
pub enum EndpointError {
    #[error("stub")]
    Stub,
}
