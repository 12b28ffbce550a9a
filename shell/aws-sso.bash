# aws-sso shell integration for bash. Install: eval "$(aws-sso-env init bash)" in ~/.bashrc.
#
# Before each prompt, _aws_sso_hook asks `aws-sso-env hook bash` for shell code only when
# something it depends on may have changed: the directory, the refresh time of the exported
# credentials, the active .aws-sso.yaml, or the marker touched by login, logout, allow and deny.
# The test uses builtins only, so an idle prompt starts no process.
#
# bash has no hook on a change of directory, so cd, pushd and popd become functions that run the
# hook when $PWD moved: in `cd B && cmd`, cmd runs with B's credentials, not those of the
# directory the line started in. A cd, pushd or popd function defined before this script (the
# user's, or a tool's) is kept under the name _aws_sso_user_cd (pushd, popd) and called first.

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
  # The pid of this shell, or of the subshell this runs in: each has a stamp of its own.
  local pid=${BASHPID:-$$}
  eval "$(_AWS_SSO_STATE="${_AWS_SSO_STATE-}" _AWS_SSO_SHELL_PID=$pid @AWS_SSO_ENV@ hook bash)"
  _AWS_SSO_PWD=$PWD
}

# Called by the cd, pushd and popd functions below, after the command: runs the hook when the
# directory changed, and returns the command's status. In a subshell (`(cd B && make)`,
# `$(cd B; pwd)`) it runs only when the nearest .aws-sso.yaml is not the one the inherited
# credentials are for, found with builtins, so a prompt or completion function that cds within
# one project in a subshell starts no process. It runs there with the subshell's pid, so this
# shell's stamp never moves, and what it exports stays in the subshell.
_aws_sso_chpwd() {
  local status=$?
  if [[ $PWD != "${_AWS_SSO_PWD-}" ]] && { ((BASH_SUBSHELL == 0)) || _aws_sso_moved_project; }; then
    _aws_sso_run
  fi
  return "$status"
}

# True when the nearest .aws-sso.yaml from $PWD up (as the hook finds it) is not $_AWS_SSO_FILE.
_aws_sso_moved_project() {
  local dir=$PWD file=
  while :; do
    if [[ -f ${dir%/}/.aws-sso.yaml ]]; then
      file=${dir%/}/.aws-sso.yaml
      break
    fi
    [[ -n $dir && $dir != / ]] || break
    dir=${dir%/*}
  done
  [[ $file != "${_AWS_SSO_FILE-}" ]]
}

# Makes $1 (cd, pushd or popd) a function that runs the command, then _aws_sso_chpwd. An existing
# function of that name is renamed _aws_sso_user_$1 (from `declare -f`) and called instead of the
# builtin; ours, met again when this script is sourced twice, is left as it is. `function NAME`
# and aliases off while evaluating keep an alias of that name (alias cd=z) from being expanded.
_aws_sso_wrap() {
  local definition aliases=
  shopt -q expand_aliases && aliases=1
  shopt -u expand_aliases
  if declare -F "$1" >/dev/null; then
    definition=$(declare -f "$1")
    if [[ $definition != *_aws_sso_chpwd* ]]; then
      eval "_aws_sso_user_$1${definition#"$1"}"
      eval "function $1 { _aws_sso_user_$1 \"\$@\"; _aws_sso_chpwd; }"
    fi
  else
    eval "function $1 { builtin $1 \"\$@\"; _aws_sso_chpwd; }"
  fi
  [[ -z $aliases ]] || shopt -s expand_aliases
}
_aws_sso_wrap cd
_aws_sso_wrap pushd
_aws_sso_wrap popd
unset -f _aws_sso_wrap

# `aws-sso use ACCOUNT [ROLE]` and `aws-sso use --clear` change this shell, so this function runs
# them: `aws-sso-env use` prints shell code only when it succeeds, evaluated here, and the hook
# keeps the credentials fresh from then on. Every other command goes to the aws-sso program
# unchanged, and the function returns its status. `function NAME` keeps an alias from expanding.
function aws-sso {
  if [[ ${1-} == use ]]; then
    shift
    local code status
    code=$(_AWS_SSO_STATE="${_AWS_SSO_STATE-}" _AWS_SSO_SHELL_PID=${BASHPID:-$$} @AWS_SSO_ENV@ use --shell bash "$@")
    status=$?
    if ((status == 0)); then
      eval "$code"
      _AWS_SSO_PWD=$PWD
    fi
    return "$status"
  fi
  command aws-sso "$@"
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
