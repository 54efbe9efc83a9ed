"""The `syncd` command: parser, the command handlers (commands/), the text form of their results (text.py) and how
they are printed (output.py)."""
