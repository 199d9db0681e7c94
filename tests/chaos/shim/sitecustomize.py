"""Small server-side TCP send buffers for the slow-console scenario (loaded via PYTHONPATH).

On loopback the kernel autotunes a socket's send buffer up to tcp_wmem's maximum
(4 MB by default): a console behind a slow proxy then has megabytes of frames
parked in the server's kernel buffer and the server never sees it fall behind.
A real slow link keeps that buffer near its small bandwidth-delay product. With
PATROL_CHAOS_SNDBUF=<bytes>, every TCP socket this process binds gets that
SO_SNDBUF, and sockets accepted on it inherit it, as a host with a small
net.ipv4.tcp_wmem would. Nothing of the product is changed; `patrol serve`
runs as it is.
"""

import os
import socket

_size = int(os.environ.get("PATROL_CHAOS_SNDBUF", "0") or 0)
if _size > 0:
    _bind = socket.socket.bind

    def _bind_small(self: socket.socket, address: object) -> None:
        if self.type == socket.SOCK_STREAM and self.family in (socket.AF_INET, socket.AF_INET6):
            try:
                self.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, _size)
            except OSError:
                pass
        _bind(self, address)  # type: ignore[arg-type]

    socket.socket.bind = _bind_small  # type: ignore[method-assign]
