#!/usr/bin/env python
"""Django's command-line utility for novelgraph."""

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "novelgraph.settings")
    from django.core.exceptions import ImproperlyConfigured
    from django.core.management import execute_from_command_line

    try:
        execute_from_command_line(sys.argv)
    except ImproperlyConfigured as exc:
        # A malformed .env value: one line naming the variable, not a traceback.
        message = " ".join(str(exc).split())
        sys.stderr.write(f"配置错误 (configuration error): {message}\n")
        sys.exit(2)


if __name__ == "__main__":
    main()
