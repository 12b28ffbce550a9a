# aws-sso shell integration for zsh. Install: eval "$(aws-sso-env init zsh)" in ~/.zshrc.
#
# Before each prompt and after each change of directory, _aws_sso_hook asks
# `aws-sso-env hook zsh` for shell code only when something it depends on may have changed: the
# directory, the refresh time of the exported credentials, the active .aws-sso.yaml, or the
# marker touched by login, logout, allow and deny. The test uses builtins only, so an idle
# prompt starts no process.

if [[ -o interactive ]]; then

zmodload zsh/datetime
autoload -Uz add-zsh-hook
# Declared global here so that the hook's plain assignments do not trip warn_create_global.
typeset -g _AWS_SSO_STATE _AWS_SSO_PWD _AWS_SSO_FILE _AWS_SSO_MARKER _AWS_SSO_STAMP
typeset -g _AWS_SSO_REFRESH_AT

_aws_sso_hook() {
  local ret=$?
  emulate -L zsh
  # A subshell would share (and move) this shell's stamp; its parent's next prompt catches up.
  (( ZSH_SUBSHELL )) && return ret
  if [[ $PWD != "${_AWS_SSO_PWD-}" ]]; then
    _aws_sso_run
  elif [[ -n ${_AWS_SSO_FILE-} ]] && { [[ ! -e $_AWS_SSO_FILE ]] \
    || [[ ! -e ${_AWS_SSO_STAMP-} || $_AWS_SSO_FILE -nt ${_AWS_SSO_STAMP-} ]] }; then
    _aws_sso_run
  elif [[ -n ${_AWS_SSO_MARKER-} && -e $_AWS_SSO_MARKER ]] \
    && [[ ! -e ${_AWS_SSO_STAMP-} || $_AWS_SSO_MARKER -nt ${_AWS_SSO_STAMP-} ]]; then
    _aws_sso_run
  elif (( ${_AWS_SSO_REFRESH_AT:-0} > 0 && EPOCHSECONDS >= ${_AWS_SSO_REFRESH_AT:-0} )); then
    _aws_sso_run
  fi
  return ret
}

_aws_sso_run() {
  eval "$(_AWS_SSO_STATE="${_AWS_SSO_STATE-}" _AWS_SSO_SHELL_PID=$$ @AWS_SSO_ENV@ hook zsh)"
  typeset -g _AWS_SSO_PWD=$PWD
}

# add-zsh-hook adds a function once, however often this is sourced, and keeps the user's own.
add-zsh-hook precmd _aws_sso_hook
add-zsh-hook chpwd _aws_sso_hook

fi
