#!/usr/bin/env python
"""Same as the `servio` command."""

from servio.cli import main

if __name__ == "__main__":
    main()
