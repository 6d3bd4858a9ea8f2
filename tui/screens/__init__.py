"""The TUI's screens: Health, Models and Logs (one mode each), plus the confirmation dialog."""
