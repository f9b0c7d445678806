"""Developer machine: debug on, console e-mail."""

from omnilog.settings.base import *  # noqa: F403
from omnilog.settings.base import env_bool

DEBUG = env_bool("DEBUG", True)
