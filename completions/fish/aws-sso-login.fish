complete --keep-order --exclusive --command aws-sso-login --arguments "(COMPLETE=fish aws-sso-login -- (commandline --current-process --tokenize --cut-at-cursor) (commandline --current-token))"
