//! What kind of failure an error is, which decides the exit code of every binary. A leaf: every
//! module's error enum may name its kind without depending on the error type that gathers them.

/// What kind of failure, which decides the exit code (docs/ARCHITECTURE.md §7).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    /// Exit 1.
    Failure,
    /// Exit 2: the command line or the configuration asks for something that cannot be done.
    Usage,
    /// Exit 3: not logged in, or the session expired.
    NotLoggedIn,
}

impl ErrorKind {
    pub fn exit_code(self) -> i32 {
        match self {
            ErrorKind::Failure => 1,
            ErrorKind::Usage => 2,
            ErrorKind::NotLoggedIn => 3,
        }
    }
}
