"""The Discord adapter (discord.py). The core in `hotpapers/` never imports this package."""
