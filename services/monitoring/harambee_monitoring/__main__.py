from harambee_common.cli import main

main("monitoring")
