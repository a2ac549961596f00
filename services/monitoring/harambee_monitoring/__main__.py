from harambee_common.cli import main
from harambee_monitoring.demo import seed_from_env

main("monitoring", verbs={"seed-demo": seed_from_env})
