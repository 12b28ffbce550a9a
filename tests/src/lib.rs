//! Shared setup for the end-to-end tests.
