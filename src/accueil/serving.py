"""Several server processes on one port, with the kernel spreading connections evenly between them.

uvicorn's own ``--workers`` lets every process accept from one shared socket; keep-alive connections
then land unevenly (in our benchmark one process often took most of them and the second core stayed
idle). Here each process binds its own socket with ``SO_REUSEPORT`` and Linux balances new
connections across them. The parent only supervises: if a worker dies, it stops the others and exits.
"""

from __future__ import annotations

import multiprocessing
import signal
import socket
import sys
import time
from typing import Any


def _socket(host: str, port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def _serve_one(host: str, port: int, options: dict[str, Any]) -> None:
    import uvicorn

    config = uvicorn.Config("accueil.asgi:app", **options)
    uvicorn.Server(config).run(sockets=[_socket(host, port)])


def serve_processes(host: str, port: int, workers: int, **options: Any) -> int:
    """Run ``workers`` server processes until a signal (or a worker's death); returns an exit code."""
    if workers <= 1 or not hasattr(socket, "SO_REUSEPORT"):
        import uvicorn

        uvicorn.run("accueil.asgi:app", host=host, port=port, workers=max(workers, 1), **options)
        return 0
    _socket(host, port).close()  # fail early and clearly if the port is taken
    context = multiprocessing.get_context("spawn")
    children = [context.Process(target=_serve_one, args=(host, port, options), name=f"accueil-serve-{n}")
                for n in range(workers)]
    for child in children:
        child.start()
    stopping = False

    def stop(_signum: int, _frame: Any) -> None:
        nonlocal stopping
        stopping = True

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        while not stopping and all(child.is_alive() for child in children):
            time.sleep(0.2)
    finally:
        for child in children:
            if child.is_alive():
                child.terminate()  # SIGTERM: uvicorn finishes in-flight requests, then exits
        for child in children:
            child.join(30)
            if child.is_alive():
                child.kill()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return 0 if stopping else 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(serve_processes("127.0.0.1", 8000, 2))
