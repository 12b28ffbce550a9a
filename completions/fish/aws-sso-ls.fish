complete --keep-order --exclusive --command aws-sso-ls --arguments "(COMPLETE=fish aws-sso-ls -- (commandline --current-process --tokenize --cut-at-cursor) (commandline --current-token))"
