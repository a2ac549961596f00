from harambee_common.migrations import run_env
from harambee_monitoring.models import Base

run_env(Base.metadata)
