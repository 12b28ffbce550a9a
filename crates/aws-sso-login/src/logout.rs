//! `aws-sso-login logout`: one session, or every session with `--all`.

use aws_sso_core::session::{self, Context, LogoutOutcome, SessionTarget};

use aws_sso_cli::Printer;

pub async fn run(
    ctx: &Context,
    target: Option<&SessionTarget>,
    printer: Printer,
) -> aws_sso_core::Result<()> {
    let (what, outcome) = match target {
        Some(target) => (target.display_name(), session::logout(ctx, target).await),
        None => ("every session".to_owned(), session::logout_all(ctx).await),
    };
    // Even a logout that failed half-way may have removed what the shells use.
    crate::tell_shell_hooks(&ctx.env);
    let outcome = outcome?;
    let LogoutOutcome { tokens_removed, role_credentials_removed, server_logout_failed } = outcome;
    if tokens_removed == 0 {
        printer.message(&format!(
            "Not logged in to {what}; removed {} cached role credential{}.",
            role_credentials_removed,
            plural(role_credentials_removed)
        ));
    } else {
        printer.message(&format!(
            "Logged out of {what}: removed {tokens_removed} token{} and {role_credentials_removed} cached role credential{}.",
            plural(tokens_removed),
            plural(role_credentials_removed)
        ));
    }
    for name in server_logout_failed {
        tracing::warn!(
            "the service could not be told to end the session of {name}; its local files are removed all the same"
        );
    }
    Ok(())
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}
