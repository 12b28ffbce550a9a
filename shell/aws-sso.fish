# aws-sso shell integration for fish. Install: aws-sso-env init fish | source in config.fish.
#
# Before each prompt and after each change of directory, __aws_sso_hook asks
# `aws-sso-env hook fish` for shell code only when something it depends on may have changed:
# the directory, the refresh time of the exported credentials, the active .aws-sso.yaml, or the
# marker touched by login, logout, allow and deny. The test uses builtins only (`path` needs
# fish 3.5; older versions pay one `date` process while credentials are exported).

if status is-interactive
    # Defining the function again replaces it and its event handlers: sourcing twice installs once.
    function __aws_sso_hook --on-event fish_prompt --on-variable PWD
        set -l run 0
        if test "$PWD" != "$_AWS_SSO_PWD"
            set run 1
        else if test -n "$_AWS_SSO_FILE"
            and begin
                not test -e "$_AWS_SSO_FILE"
                or test "$_AWS_SSO_FILE" -nt "$_AWS_SSO_STAMP"
            end
            set run 1
        else if test -n "$_AWS_SSO_MARKER"
            and test "$_AWS_SSO_MARKER" -nt "$_AWS_SSO_STAMP"
            set run 1
        else if test -n "$_AWS_SSO_REFRESH_AT" -a "$_AWS_SSO_REFRESH_AT" != 0
            set -l now
            if builtin -q path
                # The age of / plus its mtime is the time now, without starting a process.
                set now (math (path mtime /) + (path mtime --relative /))
            else
                set now (date +%s)
            end
            test "$now" -ge "$_AWS_SSO_REFRESH_AT"
            and set run 1
        end
        if test $run = 1
            _AWS_SSO_STATE="$_AWS_SSO_STATE" _AWS_SSO_SHELL_PID=$fish_pid @AWS_SSO_ENV@ hook fish | source
            set -g _AWS_SSO_PWD $PWD
        end
    end

    # `aws-sso use ACCOUNT [ROLE]` and `aws-sso use --clear` change this shell, so this function
    # runs them: `aws-sso-env use` prints shell code only when it succeeds, sourced here, and the
    # hook keeps the credentials fresh from then on. Every other command goes to the aws-sso
    # program unchanged, and the function returns its status.
    function aws-sso --description 'aws-sso, with `aws-sso use` run in this shell'
        if test "$argv[1]" = use
            set -e argv[1]
            _AWS_SSO_STATE="$_AWS_SSO_STATE" _AWS_SSO_SHELL_PID=$fish_pid @AWS_SSO_ENV@ use --shell fish $argv | source
            set -l ret $pipestatus[1]
            if test $ret = 0
                set -g _AWS_SSO_PWD $PWD
            end
            return $ret
        end
        command aws-sso $argv
    end
end
