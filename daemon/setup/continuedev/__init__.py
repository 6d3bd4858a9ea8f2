"""``bbj-coder continue install|uninstall``: bbj-coder's entries in Continue.dev's config."""
