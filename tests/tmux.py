"""The real `mlops-console` command in a real terminal (tmux), typed at as a person types: keys sent before the
first frame, whole strings at once (`send-keys -l`, as a paste or a slow SSH link delivers them), bracketed
pastes, resizes, and the screen read back with its attributes (`capture-pane -e`)."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

COMMAND = str(Path(sys.executable).parent / "mlops-console")


def have_tmux() -> bool:
    return shutil.which("tmux") is not None


class Tmux:
    """One tmux server of its own (``-L``), one session running the console with a clean environment (what
    a login shell has, not the test runner's variables)."""

    def __init__(self, args: list[str], *, size=(80, 24), env: dict[str, str] | None = None,
                 cwd: str | os.PathLike | None = None) -> None:
        self.socket = f"mlops-console-test-{uuid.uuid4().hex[:8]}"
        self.target = "console"
        keep = {k: v for k, v in os.environ.items() if k.startswith(("XDG_", "KUBECONFIG", "DVC_", "GIT_"))}
        keep.update({"TERM": "xterm-256color", "LANG": "C.UTF-8", "PYTHONWARNINGS": "ignore",
                     "PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": os.environ.get("HOME", "/root")})
        keep.update(env or {})
        exports = " ".join(f"{k}={shlex.quote(v)}" for k, v in keep.items())
        line = f"cd {shlex.quote(str(cwd or os.getcwd()))} && env -i {exports} {shlex.quote(COMMAND)} " + \
            " ".join(shlex.quote(a) for a in args) + "; echo EXIT=$?; sleep 60"
        self._tmux("new-session", "-d", "-s", self.target, "-x", str(size[0]), "-y", str(size[1]), line)

    def _tmux(self, *args: str) -> str:
        return subprocess.run(["tmux", "-L", self.socket, *args], check=True, capture_output=True,
                              text=True, timeout=30).stdout

    def keys(self, *keys: str) -> None:
        """Named keys (``Enter``, ``Escape``, ``C-p``, ``2``), each as tmux sends it."""
        self._tmux("send-keys", "-t", self.target, *keys)

    def literal(self, text: str) -> None:
        """``text`` in one write, the way a paste or a slow link delivers it."""
        self._tmux("send-keys", "-t", self.target, "-l", text)

    def paste(self, text: str) -> None:
        """A bracketed paste of ``text`` (what a terminal sends when the user pastes)."""
        self._tmux("set-buffer", "-b", "t", text)
        self._tmux("paste-buffer", "-p", "-d", "-b", "t", "-t", self.target)

    def resize(self, width: int, height: int) -> None:
        self._tmux("resize-window", "-t", self.target, "-x", str(width), "-y", str(height))

    def screen(self, escapes: bool = False) -> str:
        return self._tmux("capture-pane", "-p", *(["-e"] if escapes else []), "-t", self.target)

    def wait_for(self, check, timeout: float = 30.0, what: str = "", escapes: bool = False) -> str:
        """Poll the screen until ``check(screen)`` (or the text ``check``) holds; the screen."""
        test = (lambda s: check in s) if isinstance(check, str) else check
        deadline = time.monotonic() + timeout
        screen = ""
        while time.monotonic() < deadline:
            screen = self.screen(escapes)
            if test(screen):
                return screen
            time.sleep(0.1)
        raise AssertionError(f"timed out waiting for {what or check!r}; the screen:\n{screen}")

    def close(self) -> None:
        subprocess.run(["tmux", "-L", self.socket, "kill-server"], capture_output=True, timeout=30)

    def __enter__(self) -> Tmux:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
