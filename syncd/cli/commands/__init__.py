"""The handlers of the `syncd` commands, one module per group; each parses nothing, calls library functions,
prints and returns an exit code."""
