//! STUB: replaced by the http helper.
#[derive(Debug, thiserror::Error)]
pub enum LoginError {
    #[error("stub")]
    Stub,
}
