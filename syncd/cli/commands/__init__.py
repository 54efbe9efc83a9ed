"""The handlers of the `syncd` commands, one module per group; each parses nothing, calls a view (read commands)
or an action, prints its data as JSON or as text.py's lines, and returns an exit code."""
