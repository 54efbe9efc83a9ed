"""The `syncd` command: parser, the command handlers, and how their results are printed."""
