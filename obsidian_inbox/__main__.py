"""Run the command line: ``python -m obsidian_inbox``."""

from obsidian_inbox._cli import main

if __name__ == "__main__":
    main()
