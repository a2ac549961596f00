from harambee_common.cli import main

main(component="interventions", app_factory="harambee_interventions.app:create_app", default_port=8103)
