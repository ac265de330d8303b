"""Deployment settings (see settings.py)."""
from .settings import CONFIGS, Config, ConfigError, config_for

__all__ = ["CONFIGS", "Config", "ConfigError", "config_for"]
