from harambee_audit.models import Base
from harambee_common.migrations import run_env

run_env(Base.metadata)
