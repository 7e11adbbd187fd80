from ekinerja_common.cli import main

from .commands import extra_commands
from .inbox import HANDLERS
from .runtime import build_runtime

if __name__ == "__main__":
    runtime = build_runtime()
    main(runtime, HANDLERS, extra_commands(runtime))
