//! Finding a Python that has botocore, the independent client the tests check us against.

use std::io::Write as _;
use std::path::PathBuf;

/// A `python3` (or `python`) that can `import botocore`, as an absolute path.
///
/// When there is none, prints `SKIPPED: …` to stderr and returns `None`, so the test can return
/// early; on CI (`CI=true`) a missing botocore fails the test instead of skipping it.
pub fn python_with_botocore() -> Option<PathBuf> {
    if let Some(python) = crate::tools::find_python_with_botocore() {
        return Some(python);
    }
    let notice = "python3 with botocore not found (pip install botocore)";
    if std::env::var("CI").is_ok_and(|value| value == "true") {
        panic!("{notice}; CI must run the botocore tests");
    }
    let _ = writeln!(std::io::stderr(), "SKIPPED: {notice}");
    None
}
