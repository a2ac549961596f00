from harambee_common.migrations import run_env
from harambee_interventions.models import Base

run_env(Base.metadata)
