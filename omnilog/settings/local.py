"""Developer machine: debug on, console e-mail."""

from omnilog.settings.base import *  # noqa: F403
from omnilog.settings.base import env_bool

DEBUG = env_bool("DEBUG", True)
WEBHOOK_ALLOW_PRIVATE_URLS = env_bool("WEBHOOK_ALLOW_PRIVATE_URLS", True)
