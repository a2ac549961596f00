"""`python -m harambee_audit migrate|serve`."""

from harambee_common.cli import main

if __name__ == "__main__":
    main(component="audit", app_factory="harambee_audit.app:create_app", default_port=8104)
