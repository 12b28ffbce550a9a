//! STUB: replaced by the http helper.
#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    #[error("stub")]
    Stub,
}
impl HttpError {
    pub fn is_unauthorized(&self) -> bool {
        false
    }
}
