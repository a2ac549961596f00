from harambee_common.cli import main

main(component="intake", app_factory="harambee_intake.app:create_app", default_port=8101)
