"""The `yibao` command line: thin typer shells over the engine and the policy loader."""
