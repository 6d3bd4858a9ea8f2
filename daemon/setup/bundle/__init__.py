"""``bbj-coder bundle``: the offline installation bundle and the installers' Python step."""
