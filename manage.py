#!/usr/bin/env python
import sys

if __name__ == "__main__":
    from broadsheet.settings import CHOICES, require_a_choice

    try:
        require_a_choice()
    except Exception:
        sys.exit(CHOICES)
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)
