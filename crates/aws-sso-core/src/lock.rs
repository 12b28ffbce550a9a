//! STUB: replaced by the cache helper.
