"""Stand-in for a kernel process: asks the fork server for a kernel and lives as long as it does.

Started by jupyter_client in place of ``python -m ipykernel_launcher`` (see
:mod:`takingstock.runner.forkserver`) as ``python -I -S kernel_proxy.py <socket> <kernel args>``.
It uses the standard library only, so it starts in milliseconds. It sends the server its kernel
arguments, working directory and environment (and its stdout and stderr, which the kernel
takes as its own), passes SIGINT and SIGTERM on to the forked kernel, and exits with the
kernel's exit code when the server reports it (1 if the server goes away). When the server
answers that it will not fork (it has more than one thread), the proxy becomes the kernel
itself: it replaces its own program with ``python -m ipykernel_launcher`` and the same arguments.
"""

import json
import os
import signal
import socket
import sys


def main(argv):
    conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    conn.connect(argv[0])
    request = {"argv": argv[1:], "cwd": os.getcwd(), "env": dict(os.environ)}
    # the kernel writes where this process would: its stdout and stderr go along
    data = (json.dumps(request) + "\n").encode()
    sent = socket.send_fds(conn, [data], [1, 2])
    conn.sendall(data[sent:])
    reader = conn.makefile("r", encoding="utf-8")
    kernel = None

    def forward(signum, _frame):
        if kernel is not None:
            try:
                os.kill(kernel, signum)
            except ProcessLookupError:
                pass

    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, forward)
    for line in reader:
        message = json.loads(line)
        if "pid" in message:
            kernel = message["pid"]
        elif "exit" in message:
            return message["exit"]
        elif "fresh" in message:  # the server will not fork: be the kernel, started afresh
            conn.close()
            os.execv(sys.executable, [sys.executable, "-m", "ipykernel_launcher", *argv[1:]])
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
