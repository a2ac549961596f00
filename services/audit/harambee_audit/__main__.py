"""`python -m harambee_audit migrate|serve`."""

from harambee_common.cli import main

if __name__ == "__main__":
    main("audit")
