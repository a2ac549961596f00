from harambee_assessment.models import Base
from harambee_common.migrations import run_env

run_env(Base.metadata)
