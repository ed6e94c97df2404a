"""Process helpers shared by the server's job children and the dataset runner."""

from __future__ import annotations

import os
import threading
import time


def exit_with_parent(parent_pid: int, code: int = 3) -> None:
    """Exit (with `code`) as soon as this process's parent is no longer `parent_pid`: a child
    orphaned by a killed server stops instead of writing on; a restart resumes the work."""

    def watch() -> None:
        while True:
            time.sleep(0.5)
            if os.getppid() != parent_pid:
                os._exit(code)

    threading.Thread(target=watch, daemon=True, name="parent-watch").start()
