"""The configuration (DESIGN.md 9a): load.py reads and validates the file, config.py is the whole file's model,
schema.py its sections other than ``[sources]``, sources.py the source tables (each validated by its type's model
in ``connectors/<type>/options.py``), keys.py errors with key paths, durations.py durations and cron,
secrets.py reading secrets, urls.py refusing credentials in URLs. Callers import from here."""

from syncd.settings.config import Config, resolve_secret
from syncd.settings.durations import cron_trigger, parse_duration
from syncd.settings.keys import ConfigError, key_path
from syncd.settings.load import config_path, example_text, load_config, parse_config, parse_toml
from syncd.settings.schema import split_listen

__all__ = ["Config", "ConfigError", "config_path", "cron_trigger", "example_text", "key_path", "load_config",
           "parse_config", "parse_duration", "parse_toml", "resolve_secret", "split_listen"]
