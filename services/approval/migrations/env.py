from alembic import context

from ekinerja_common.runtime import run_alembic_env

run_alembic_env(context)
