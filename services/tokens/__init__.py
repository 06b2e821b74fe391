"""The tokens admin API: list, issue (the clear token shown once) and revoke API tokens."""
