complete --keep-order --exclusive --command aws-sso --arguments "(COMPLETE=fish aws-sso -- (commandline --current-process --tokenize --cut-at-cursor) (commandline --current-token))"
