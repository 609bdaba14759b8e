"""Platform loaders: one module per platform, each naming its formats in its docstring.

A loader sniffs a file's content (never its name), streams raw records out of it and maps each one,
purely, to a `cib.schema.PostRecord` or `cib.schema.AccountRecord`.
"""

from loaders.facebook import FacebookLoader
from loaders.telegram import TelegramLoader
from loaders.tiktok import TikTokLoader
from loaders.x import XLoader

__all__ = ["ALL_LOADERS", "FacebookLoader", "TelegramLoader", "TikTokLoader", "XLoader"]

ALL_LOADERS = (XLoader, TelegramLoader, TikTokLoader, FacebookLoader)
