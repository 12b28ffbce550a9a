# aws-sso shell integration for bash. Install: eval "$(aws-sso-env init bash)" in ~/.bashrc.
#
# Before each prompt, _aws_sso_hook asks `aws-sso-env hook bash` for shell code only when
# something it depends on may have changed: the directory, the refresh time of the exported
# credentials, the active .aws-sso.yaml, or the marker touched by login, logout, allow and deny.
# The test uses builtins only, so an idle prompt starts no process.

if [[ $- == *i* ]]; then

_aws_sso_hook() {
  local status=$? now
  if [[ $PWD != "${_AWS_SSO_PWD-}" ]]; then
    _aws_sso_run
  elif [[ -n ${_AWS_SSO_FILE-} ]] \
    && { [[ ! -e $_AWS_SSO_FILE ]] || [[ $_AWS_SSO_FILE -nt ${_AWS_SSO_STAMP-} ]]; }; then
    _aws_sso_run
  elif [[ -n ${_AWS_SSO_MARKER-} && $_AWS_SSO_MARKER -nt ${_AWS_SSO_STAMP-} ]]; then
    _aws_sso_run
  elif [[ ${_AWS_SSO_REFRESH_AT:-0} != 0 ]]; then
    now=${EPOCHSECONDS-}
    [[ -n $now ]] || printf -v now '%(%s)T' -1
    if ((now >= _AWS_SSO_REFRESH_AT)); then
      _aws_sso_run
    fi
  fi
  return "$status"
}

_aws_sso_run() {
  eval "$(_AWS_SSO_STATE="${_AWS_SSO_STATE-}" _AWS_SSO_SHELL_PID=$$ @AWS_SSO_ENV@ hook bash)"
  _AWS_SSO_PWD=$PWD
}

# Run first, so the rest of the prompt (starship, a PS1 showing AWS_SSO_PROFILE) sees the
# current credentials and the user's $?. PROMPT_COMMAND may be an array since bash 5.1.
_aws_sso_installed=
# shellcheck disable=SC2128,SC2178 # the elif branch handles PROMPT_COMMAND as a string
if [[ ${PROMPT_COMMAND+set} == set && ${PROMPT_COMMAND@a} == *a* ]]; then
  for _aws_sso_command in "${PROMPT_COMMAND[@]}"; do
    [[ $_aws_sso_command == *_aws_sso_hook* ]] && _aws_sso_installed=1
  done
  [[ -n $_aws_sso_installed ]] || PROMPT_COMMAND=(_aws_sso_hook "${PROMPT_COMMAND[@]}")
  unset -v _aws_sso_command
elif [[ ";${PROMPT_COMMAND-};" != *";_aws_sso_hook;"* ]]; then
  PROMPT_COMMAND="_aws_sso_hook${PROMPT_COMMAND:+;$PROMPT_COMMAND}"
fi
unset -v _aws_sso_installed

fi
