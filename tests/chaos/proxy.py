"""TCP proxies that misbehave on purpose, for the fault harness.

:class:`ChaosProxy` extends :class:`tests.support.tcp_proxy.TcpProxy` (cut
everything with ``down()``, heal with ``up()``, on its own thread and loop)
with two faults a real network has:

* **resets at random**: while ``resetting`` is on, every open connection is
  reset (RST, not FIN) after an exponentially distributed lifetime with mean
  ``reset_mean_s``; new connections are accepted and get the same treatment;
* **throttling**: with ``rate_bps`` set, bytes from the server to the client
  pass at that rate, in ``chunk`` sized pieces, and the proxy's sockets have
  small kernel buffers (``buffer_bytes``), so the server's writes back up
  instead of vanishing into loopback buffers: a slow mobile link, as the
  server sees it.

Counters (``connections``, ``resets``, ``bytes_down``) are read by the report.
"""

from __future__ import annotations

import asyncio
import random
import socket
import struct

from tests.support.tcp_proxy import TcpProxy


def _rst(writer: asyncio.StreamWriter) -> None:
    """Close with a reset: SO_LINGER 0 makes the kernel send RST instead of FIN."""
    sock = writer.get_extra_info("socket")
    if sock is not None:
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        except OSError:
            pass
    writer.transport.abort()


class ChaosProxy(TcpProxy):
    def __init__(self, target_host: str, target_port: int, *, rate_bps: float | None = None,
                 buffer_bytes: int = 4096, chunk: int = 1024, reset_mean_s: float = 2.0,
                 seed: int | None = None) -> None:
        super().__init__(target_host, target_port)
        self.rate_bps = rate_bps
        self.buffer_bytes = buffer_bytes
        self.chunk = chunk
        self.reset_mean_s = reset_mean_s
        self.resetting = False
        self.resets = 0
        self.bytes_down = 0
        self._rng = random.Random(seed)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def reset_all(self) -> None:
        """Reset every open connection once (new ones are accepted)."""
        def cut() -> None:
            for writer in list(self._open):
                _rst(writer)
                self.resets += 1
            self._open.clear()
        self._loop.call_soon_threadsafe(cut)

    # -- plumbing ----------------------------------------------------------------
    async def _open_upstream(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        if self.rate_bps is None:
            return await asyncio.open_connection(*self.target)
        # Small buffers are set before connecting, so the advertised window is small from the SYN on.
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, self.buffer_bytes)
        sock.setblocking(False)
        try:
            await asyncio.get_running_loop().sock_connect(sock, self.target)
        except OSError:
            sock.close()
            raise
        return await asyncio.open_connection(sock=sock, limit=self.chunk)

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if not self.accepting:
            _rst(writer)
            return
        try:
            up_reader, up_writer = await self._open_upstream()
        except OSError:
            _rst(writer)
            return
        if self.rate_bps is not None:
            client_sock = writer.get_extra_info("socket")
            if client_sock is not None:
                client_sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, self.buffer_bytes)
            writer.transport.set_write_buffer_limits(high=self.chunk)
        self.connections += 1
        self._open.update((writer, up_writer))
        done = asyncio.Event()

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter, down: bool) -> None:
            # The rate is read on every chunk, so a scenario can lift the throttle (rate_bps = None).
            try:
                while data := await src.read(self.chunk if down and self.rate_bps else 65536):
                    dst.write(data)
                    await dst.drain()
                    if down:
                        self.bytes_down += len(data)
                        if self.rate_bps:
                            await asyncio.sleep(len(data) / float(self.rate_bps))
            except (OSError, asyncio.IncompleteReadError):
                pass
            finally:
                done.set()
                self._open.discard(dst)
                dst.transport.abort()

        async def chaos() -> None:
            while not done.is_set():
                lifetime = self._rng.expovariate(1.0 / self.reset_mean_s)
                try:
                    await asyncio.wait_for(done.wait(), lifetime)
                    return
                except asyncio.TimeoutError:
                    pass
                if self.resetting and not done.is_set():
                    self.resets += 1
                    for w in (writer, up_writer):
                        self._open.discard(w)
                        _rst(w)
                    return

        killer = asyncio.ensure_future(chaos())
        try:
            await asyncio.gather(pipe(reader, up_writer, False), pipe(up_reader, writer, True))
        finally:
            killer.cancel()
