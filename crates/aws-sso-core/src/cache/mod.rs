//! STUB: replaced by the cache helper.
#[derive(Debug, thiserror::Error)]
pub enum CacheError {
    #[error("stub")]
    Stub,
}
