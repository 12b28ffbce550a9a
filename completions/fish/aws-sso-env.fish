complete --keep-order --exclusive --command aws-sso-env --arguments "(COMPLETE=fish aws-sso-env -- (commandline --current-process --tokenize --cut-at-cursor) (commandline --current-token))"
