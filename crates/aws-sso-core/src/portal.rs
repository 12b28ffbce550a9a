//! STUB: replaced by the http helper.
