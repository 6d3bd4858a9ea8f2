"""``bbj-coder mcp install``: bbj-coder's MCP server in Continue, VS Code and Claude Desktop."""

from daemon.setup.mcpclients.entries import CLIENTS, SERVER_NAME, default_target, server_entry
from daemon.setup.mcpclients.install import McpClientConfigError, mcp_install, mcp_install_command

__all__ = [
    "CLIENTS",
    "SERVER_NAME",
    "McpClientConfigError",
    "default_target",
    "mcp_install",
    "mcp_install_command",
    "server_entry",
]
