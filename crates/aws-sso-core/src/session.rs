//! STUB.
use crate::error::ErrorKind;
#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    #[error("stub")]
    Stub,
}
impl SessionError {
    pub fn kind(&self) -> ErrorKind {
        ErrorKind::Failure
    }
}
