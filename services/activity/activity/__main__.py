from ekinerja_common.cli import main

from .commands import COMMANDS
from .inbox import HANDLERS
from .runtime import build_runtime

if __name__ == "__main__":
    main(build_runtime(), HANDLERS, COMMANDS)
