from harambee_common.cli import main

main(component="assessment", app_factory="harambee_assessment.app:create_app", default_port=8102)
