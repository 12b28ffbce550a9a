# aws-sso shell integration for zsh. Install: eval "$(aws-sso-env init zsh)" in ~/.zshrc.
#
# Before each prompt and after each change of directory, _aws_sso_hook asks
# `aws-sso-env hook zsh` for shell code only when something it depends on may have changed: the
# directory, the refresh time of the exported credentials, the active .aws-sso.yaml, or the
# marker touched by login, logout, allow and deny. The test uses builtins only, so an idle
# prompt starts no process.

if [[ -o interactive ]]; then

zmodload zsh/datetime
# $sysparams[pid]: a subshell's own pid ($$ is its parent's).
zmodload -F zsh/system p:sysparams 2>/dev/null
autoload -Uz add-zsh-hook
# Declared global here so that the hook's plain assignments do not trip warn_create_global.
typeset -g _AWS_SSO_STATE _AWS_SSO_PWD _AWS_SSO_FILE _AWS_SSO_MARKER _AWS_SSO_STAMP
typeset -g _AWS_SSO_REFRESH_AT

_aws_sso_hook() {
  local ret=$?
  emulate -L zsh
  # A subshell (`(cd B && make)`, `$(cd B; pwd)`) has no prompt, only chpwd: it runs the hook
  # when the nearest .aws-sso.yaml is not the one the inherited credentials are for, found with
  # builtins, so a prompt or completion function that cds within one project starts no process.
  # It runs with the subshell's pid, so this shell's stamp never moves.
  if (( ZSH_SUBSHELL )); then
    if [[ $PWD != "${_AWS_SSO_PWD-}" ]] && _aws_sso_moved_project; then
      _aws_sso_run
    fi
    return ret
  fi
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
  # The pid of this shell, or of the subshell this runs in: each has a stamp of its own.
  local pid=${sysparams[pid]:-$$}
  eval "$(_AWS_SSO_STATE="${_AWS_SSO_STATE-}" _AWS_SSO_SHELL_PID=$pid @AWS_SSO_ENV@ hook zsh)"
  typeset -g _AWS_SSO_PWD=$PWD
}

# True when the nearest .aws-sso.yaml from $PWD up (as the hook finds it) is not $_AWS_SSO_FILE.
_aws_sso_moved_project() {
  local dir=$PWD file=
  while true; do
    if [[ -f ${dir%/}/.aws-sso.yaml ]]; then
      file=${dir%/}/.aws-sso.yaml
      break
    fi
    [[ -n $dir && $dir != / ]] || break
    dir=${dir%/*}
  done
  [[ $file != "${_AWS_SSO_FILE-}" ]]
}

# `aws-sso use ACCOUNT [ROLE]` and `aws-sso use --clear` change this shell, so this function runs
# them: `aws-sso-env use` prints shell code only when it succeeds, evaluated here, and the hook
# keeps the credentials fresh from then on. Every other command goes to the aws-sso program
# unchanged, and the function returns its status.
function aws-sso {
  if [[ ${1-} == use ]]; then
    shift
    local code ret
    code="$(_AWS_SSO_STATE="${_AWS_SSO_STATE-}" _AWS_SSO_SHELL_PID=${sysparams[pid]:-$$} @AWS_SSO_ENV@ use --shell zsh "$@")"
    ret=$?
    if (( ret == 0 )); then
      eval "$code"
      typeset -g _AWS_SSO_PWD=$PWD
    fi
    return ret
  fi
  command aws-sso "$@"
}

# add-zsh-hook adds a function once, however often this is sourced, and keeps the user's own.
add-zsh-hook precmd _aws_sso_hook
add-zsh-hook chpwd _aws_sso_hook

fi
